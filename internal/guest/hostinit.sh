# First process of a guest, run by the host's /bin/sh in new mount, PID and
# UTS namespaces: mounts the guest's root file system and its kernel file
# systems, then switches root and hands over to the guest's own init.
# Arguments: instance directory, overlay lowerdir, hostname.
set -eu
d=$1 lower=$2 host=$3
r=$d/root
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$d/upper,workdir=$d/work,redirect_dir=off,index=off,metacopy=off" "$r"
mount -t proc -o nosuid,nodev,noexec proc "$r/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
for n in null zero full random urandom tty; do
	: > "$r/dev/$n"
	mount --bind "/dev/$n" "$r/dev/$n"
done
mkdir "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$r/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/dev/shm"
ln -s pts/ptmx "$r/dev/ptmx"
ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"
ln -s /proc/self/fd/1 "$r/dev/stdout"
ln -s /proc/self/fd/2 "$r/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$r/run"
mkdir -p "$r/run/imgbuild" "$r/run/lock" "$r/run/sshd" "$r/run/oldroot"
mount --bind "$d/run" "$r/run/imgbuild"
# Extra volumes (run/volumes): mounted under the new /run, which holds
# nothing of the guest's; the guest's init moves each to its place once
# the host's tree is gone, so the guest's own symlinks cannot lead out.
if [ -s "$d/run/volumes" ]; then
	mkdir "$r/run/volumes"
	while IFS='	' read -r n _ upper work lower; do
		mkdir "$r/run/volumes/$n"
		if [ -n "$lower" ]; then
			mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work,redirect_dir=off,index=off,metacopy=off" "$r/run/volumes/$n"
		else
			mount --bind "$upper" "$r/run/volumes/$n"
		fi
	done <"$d/run/volumes"
fi
printf '%s' "$host" > /proc/sys/kernel/hostname
rm -f "$r/etc/resolv.conf"
cat /etc/resolv.conf > "$r/etc/resolv.conf"
cd "$r"
pivot_root . run/oldroot
exec /bin/sh /run/imgbuild/init

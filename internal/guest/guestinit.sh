# The guest's init (PID 1), run by the guest's own /bin/sh after the switch
# of root: does what cloud-init does at boot, starts sshd and waits. A
# reboot, poweroff or stop (USR1, USR2, TERM) ends every process and exits
# with 10, 11 or 12; the host boots the guest again after a reboot.
umount -l /run/oldroot && rmdir /run/oldroot
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
. /run/imgbuild/meta
exec >>/run/imgbuild/console.log 2>&1

# Extra volumes, mounted by the host under /run/volumes: each moves to its
# place in the guest's tree.
if [ -s /run/imgbuild/volumes ]; then
	while IFS='	' read -r n path _; do
		if mkdir -p "$path" && mount --move "/run/volumes/$n" "$path"; then
			echo "volume mounted at $path"
		else
			echo "volume not mounted at $path"
		fi
	done </run/imgbuild/volumes
fi

down() {
	echo "$1"
	kill -TERM -1 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 -1 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -1 2>/dev/null
	sync
	exit "$2"
}
trap 'down "reboot: restarting system" 10' USR1
trap 'down "reboot: power down" 11' USR2
trap 'down "stopping" 12' TERM

echo "imgbuild guest $INSTANCE_ID booting"
mkdir -p /run/cloud-init /var/lib/cloud/data /var/log
echo running > /run/cloud-init/status
printf '%s\n' "$HOSTNAME" > /etc/hostname
{ grep -v '# imgbuild-guest$' /etc/hosts 2>/dev/null; echo "$IP $HOSTNAME # imgbuild-guest"; } > /run/hosts.new
cat /run/hosts.new > /etc/hosts && rm -f /run/hosts.new

# Once per instance, as cloud-init: new host keys, the launch key for the
# default users.
idir=/var/lib/cloud/instances/$INSTANCE_ID
if [ ! -d "$idir" ]; then
	mkdir -p "$idir/scripts"
	ln -sfn "$idir" /var/lib/cloud/instance
	rm -f /etc/ssh/ssh_host_*
	for u in ec2-user ubuntu admin; do
		home=$(getent passwd "$u" | cut -d: -f6)
		[ -n "$home" ] || continue
		install -d -m 0700 -o "$u" -g "$u" "$home/.ssh"
		# As cloud-init: the keys already there (an image's) stay, the
		# launch key is added unless present.
		ak=$home/.ssh/authorized_keys
		{ [ ! -s "$ak" ] || grep -vxF -f /run/imgbuild/authorized_keys "$ak"; cat /run/imgbuild/authorized_keys; } > /run/ak.new
		install -m 0600 -o "$u" -g "$u" /run/ak.new "$ak"
		rm -f /run/ak.new
	done
fi
for t in ed25519 ecdsa; do
	[ -e /etc/ssh/ssh_host_${t}_key ] || ssh-keygen -q -t $t -N '' -f /etc/ssh/ssh_host_${t}_key
done

/usr/sbin/sshd -D -e -o "ListenAddress=$IP:22" 2>>/var/log/sshd.log &
echo "sshd started"

if [ ! -e "$idir/boot-finished" ]; then
	(
		start=$(date +%s)
		echo "Cloud-init (imgbuild local cloud) running user data of $INSTANCE_ID at $(date -R)"
		/bin/sh /run/imgbuild/user-data.sh </dev/null
		rc=$?
		echo "Cloud-init (imgbuild local cloud) finished at $(date -R), exit status $rc, up $(( $(date +%s) - start )) seconds"
		if [ $rc = 0 ]; then echo done > /run/cloud-init/status; else echo error > /run/cloud-init/status; fi
		echo $rc > "$idir/boot-finished"
	) >>/var/log/cloud-init-output.log 2>&1 &
else
	if [ "$(cat "$idir/boot-finished")" = 0 ]; then echo done > /run/cloud-init/status; else echo error > /run/cloud-init/status; fi
fi
: > /run/imgbuild/booted
while :; do
	wait
	sleep 1
done

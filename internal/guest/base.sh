# Prepares a debootstrapped system as a local-cloud guest base (run in a
# chroot by EnsureBase). Changing this file makes a new base.
set -eu

# Login users as on EC2's images (ec2-user on Amazon Linux, ubuntu on
# Ubuntu, admin on Debian), with passwordless sudo and no password.
: > /etc/sudoers.d/90-cloud-init-users
for u in ec2-user ubuntu admin; do
	useradd --create-home --shell /bin/bash --groups adm,sudo "$u"
	usermod --password '*' "$u"
	echo "$u ALL=(ALL) NOPASSWD:ALL" >> /etc/sudoers.d/90-cloud-init-users
done
chmod 0440 /etc/sudoers.d/90-cloud-init-users

# Host keys are made per instance at first boot; passwords never log in.
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/ssh/sshd_config.d
printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\n' > /etc/ssh/sshd_config.d/50-cloud-init.conf

# The guest's platform tools live in /run/imgbuild/bin, put there at every
# boot: cloud-init (status), reboot, poweroff, halt and shutdown.
for t in reboot poweroff halt shutdown; do
	ln -sf /run/imgbuild/bin/$t /usr/sbin/$t
done
ln -sf /run/imgbuild/bin/cloud-init /usr/bin/cloud-init

# Package lists, so that the package manager works at once.
apt-get update -qq
apt-get clean
rm -rf /var/lib/apt/lists/partial/* /var/cache/apt/*.bin
echo "prepared"

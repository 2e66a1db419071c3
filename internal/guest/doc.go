// Package guest runs the local cloud's Linux instances as real Linux
// systems and keeps the content of their disks.
//
// A guest is a process tree in its own mount, PID and UTS namespaces whose
// root file system is an overlay: the instance's own upper directory over
// the content layers of the image it was launched from, over a minimal
// Debian base system made once with debootstrap ([EnsureBase]). Its first
// process mounts /proc, /dev, /sys and /run, switches root (pivot_root),
// does what cloud-init does on a first boot (host keys, the launch key
// added to the default users' authorized_keys, whose other keys stay, the
// user data) and starts the guest's own OpenSSH sshd on port 22 of the
// instance's loopback address.
// The guest shares the host's network namespace, so its package manager
// reaches the same package registry as the host.
//
// A [Store] keeps content layers, addressed by the SHA-256 of their
// content: capturing an instance's disk adds its upper directory as a layer
// on top of the layers it was launched from, and a layer is deleted when no
// image, snapshot or instance refers to it any more.
//
// Everything here needs root (mounts, namespaces, pivot_root) and Linux;
// elsewhere [Supported] says why not. It is test and demo infrastructure:
// no real build runs it.
package guest

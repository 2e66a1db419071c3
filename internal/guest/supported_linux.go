package guest

import (
	"context"
	"fmt"
	"os"
	"syscall"
)

// Supported says why guests cannot run here (they need root), or nil.
func Supported() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: they need root (overlay mounts, mount and PID namespaces, pivot_root); run the local cloud as root, or without guests (--set ssh=false: instances then answer no SSH)", errNotSupported)
	}
	return nil
}

// namespaces starts a guest's first process as PID 1 of a new PID and UTS
// namespace, in a new mount namespace whose mounts do not propagate back,
// killed if the cloud's process dies.
func namespaces() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags:   syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS,
		Unshareflags: syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
}

// lockFile takes an exclusive flock on path, waiting until ctx ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	locked := make(chan error, 1)
	go func() { locked <- syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }()
	select {
	case err := <-locked:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
	case <-ctx.Done():
		// Closing the file releases the lock if the goroutine gets it later.
		go func() { <-locked; f.Close() }()
		return nil, fmt.Errorf("wait for another process making the guest base system (%s): %w", path, ctx.Err())
	}
}

// opaque returns a directory's overlay opaque attribute ("y" or "").
func opaque(dir string) string {
	buf := make([]byte, 8)
	n, err := syscall.Getxattr(dir, "trusted.overlay.opaque", buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// owner returns a file's owner, group and device number.
func owner(fi os.FileInfo) (uid, gid, rdev uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Uid), uint64(st.Gid), uint64(st.Rdev)
	}
	return 0, 0, 0
}

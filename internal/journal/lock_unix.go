//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package journal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLock takes a flock(2) lock on f without blocking and reports whether it
// got it. Locks belong to the open file, so two opens of one run conflict
// even within a process, and the kernel drops the lock when the process
// dies, however it dies.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}

// probe reports whether another open file holds f's lock, that is whether a
// writer is alive. It holds a shared lock only for the duration of the call.
func probe(f *os.File) (alive bool, err error) {
	ok, err := tryLock(f, false)
	if err != nil {
		return false, err
	}
	if !ok {
		return true, nil
	}
	return false, syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// syncDirs fsyncs directories so that entries created in them are durable.
func syncDirs(dirs ...string) error {
	for _, dir := range dirs {
		d, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("sync directory: %w", err)
		}
		err = d.Sync()
		d.Close()
		if err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync directories
			return fmt.Errorf("sync directory %s: %w", dir, err)
		}
	}
	return nil
}

//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package journal

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

var errNoLock = fmt.Errorf("file locking on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func tryLock(*os.File, bool) (bool, error) { return false, errNoLock }

func probe(*os.File) (bool, error) { return false, errNoLock }

func syncDirs(...string) error { return nil }

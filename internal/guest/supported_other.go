//go:build !linux

package guest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// Supported says why guests cannot run here: they need Linux.
func Supported() error {
	return fmt.Errorf("%w: they need Linux (this is %s); run the local cloud without guests (--set ssh=false: instances then answer no SSH)", errNotSupported, runtime.GOOS)
}

func namespaces() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func lockFile(context.Context, string) (func(), error) { return nil, Supported() }

func opaque(string) string { return "" }

func owner(os.FileInfo) (uid, gid, rdev uint64) { return 0, 0, 0 }

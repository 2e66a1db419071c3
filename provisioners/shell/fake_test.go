package shell

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imgbuild/imgbuild/internal/provision"
)

var errDisconnected = errors.New("connection lost")

// fakeComm is an in-memory instance: remote paths are local paths under
// root (a temp dir), and commands run with sh -c in root, so scripts
// really execute. A script "reboots" by creating root/disconnect: the Run
// that ran it returns errDisconnected, and so does everything until
// Reconnect.
type fakeComm struct {
	t    *testing.T
	root string

	mu          sync.Mutex
	uploads     map[string]os.FileMode // remote path -> mode
	commands    []string
	reconnects  int
	down        bool
	failUploads int // transport errors before uploads succeed
}

func newFake(t *testing.T) *fakeComm {
	return &fakeComm{t: t, root: t.TempDir(), uploads: map[string]os.FileMode{}}
}

func (f *fakeComm) check(p string) {
	if !strings.HasPrefix(p, f.root+string(filepath.Separator)) {
		f.t.Errorf("remote path %s is outside the fake instance %s", p, f.root)
	}
}

func (f *fakeComm) Run(ctx context.Context, cmd *provision.Cmd) (int, error) {
	f.mu.Lock()
	f.commands = append(f.commands, cmd.Command)
	down := f.down
	f.mu.Unlock()
	if down {
		return 0, errDisconnected
	}
	c := exec.CommandContext(ctx, "sh", "-c", cmd.Command)
	c.Dir, c.Stdout, c.Stderr = f.root, cmd.Stdout, cmd.Stderr
	c.Env = []string{"PATH=" + os.Getenv("PATH")}
	err := c.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return 0, err
	}
	if os.Remove(filepath.Join(f.root, "disconnect")) == nil {
		f.mu.Lock()
		f.down = true
		f.mu.Unlock()
		return 0, errDisconnected
	}
	return c.ProcessState.ExitCode(), nil
}

func (f *fakeComm) Upload(_ context.Context, dst string, r io.Reader, mode os.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDisconnected
	}
	if f.failUploads > 0 {
		f.failUploads--
		return errDisconnected
	}
	f.check(dst)
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.uploads[dst] = mode
	return os.WriteFile(dst, data, mode)
}

func (f *fakeComm) UploadDir(context.Context, string, string) error {
	return errors.New("not used by shell")
}

func (f *fakeComm) Download(context.Context, string, io.Writer) error {
	return errors.New("not used by shell")
}

func (f *fakeComm) DownloadDir(context.Context, string, string) error {
	return errors.New("not used by shell")
}

func (f *fakeComm) Reconnect(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnects++
	f.down = false
	return nil
}

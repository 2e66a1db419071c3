package windowsshell

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/imgbuild/imgbuild/internal/provision"
)

var errDisconnected = errors.New("connection lost")

// fakeComm is an in-memory Windows instance: it keeps uploaded files and
// records every command; answer decides what a command prints and
// returns (exit 0 and no output when nil).
type fakeComm struct {
	mu          sync.Mutex
	files       map[string][]byte
	uploads     []string // remote paths, in order
	bodies      []string // what each upload wrote
	commands    []string
	reconnects  int
	failUploads int // transport errors before uploads succeed
	answer      func(command string, stdout io.Writer) (int, error)
}

func newFake() *fakeComm {
	return &fakeComm{files: map[string][]byte{}}
}

func (f *fakeComm) Run(_ context.Context, cmd *provision.Cmd) (int, error) {
	f.mu.Lock()
	f.commands = append(f.commands, cmd.Command)
	answer := f.answer
	f.mu.Unlock()
	if answer == nil {
		return 0, nil
	}
	return answer(cmd.Command, cmd.Stdout)
}

func (f *fakeComm) Upload(_ context.Context, dst string, r io.Reader, _ os.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failUploads > 0 {
		f.failUploads--
		return errDisconnected
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.files[dst] = data
	f.uploads = append(f.uploads, dst)
	f.bodies = append(f.bodies, string(data))
	return nil
}

func (f *fakeComm) UploadDir(context.Context, string, string) error {
	return errors.New("not used by windows-shell")
}

func (f *fakeComm) Download(context.Context, string, io.Writer) error {
	return errors.New("not used by windows-shell")
}

func (f *fakeComm) DownloadDir(context.Context, string, string) error {
	return errors.New("not used by windows-shell")
}

func (f *fakeComm) Reconnect(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnects++
	return nil
}

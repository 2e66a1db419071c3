// Package provisiontest is a provision.Communicator for provisioners'
// unit tests: an in-memory instance that keeps uploaded files and records
// every command.
package provisiontest

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/imgbuild/imgbuild/internal/provision"
)

// ErrDisconnected is the transport error Comm returns for FailUploads.
var ErrDisconnected = errors.New("connection lost")

// Comm is an in-memory instance: it keeps uploaded files and records every
// command; Answer decides what a command prints and returns (exit 0 and
// no output when nil). Directory transfers are not supported. Lock Mu
// to read the fields while a provisioner runs.
type Comm struct {
	Mu          sync.Mutex
	Files       map[string][]byte
	Uploads     []string // remote paths, in order
	Bodies      []string // what each upload wrote
	Commands    []string
	Reconnects  int
	FailUploads int // transport errors before uploads succeed
	Answer      func(command string, stdout io.Writer) (int, error)
}

var _ provision.Communicator = (*Comm)(nil)

// NewComm returns an instance with no files.
func NewComm() *Comm {
	return &Comm{Files: map[string][]byte{}}
}

// Run records the command and answers it.
func (f *Comm) Run(_ context.Context, cmd *provision.Cmd) (int, error) {
	f.Mu.Lock()
	f.Commands = append(f.Commands, cmd.Command)
	answer := f.Answer
	f.Mu.Unlock()
	if answer == nil {
		return 0, nil
	}
	return answer(cmd.Command, cmd.Stdout)
}

// Upload keeps the file, unless FailUploads says to fail first.
func (f *Comm) Upload(_ context.Context, dst string, r io.Reader, _ os.FileMode) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if f.FailUploads > 0 {
		f.FailUploads--
		return ErrDisconnected
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.Files[dst] = data
	f.Uploads = append(f.Uploads, dst)
	f.Bodies = append(f.Bodies, string(data))
	return nil
}

// UploadDir is not supported.
func (f *Comm) UploadDir(context.Context, string, string) error {
	return errors.New("provisiontest.Comm: UploadDir is not supported")
}

// Download is not supported.
func (f *Comm) Download(context.Context, string, io.Writer) error {
	return errors.New("provisiontest.Comm: Download is not supported")
}

// DownloadDir is not supported.
func (f *Comm) DownloadDir(context.Context, string, string) error {
	return errors.New("provisiontest.Comm: DownloadDir is not supported")
}

// Reconnect counts the reconnections.
func (f *Comm) Reconnect(context.Context) error {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Reconnects++
	return nil
}

// Uploaded returns the remote paths uploaded whose name starts with
// prefix, in order.
func (f *Comm) Uploaded(prefix string) []string {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []string
	for _, p := range f.Uploads {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out
}

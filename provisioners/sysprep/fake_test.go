package sysprep

import (
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/imgbuild/imgbuild/internal/provision"
)

var errDisconnected = errors.New("connection lost")

// fakeComm is an in-memory Windows instance: it keeps uploaded files and
// records every command; answer decides what a command prints and returns
// (exit 0 and no output when nil).
type fakeComm struct {
	mu          sync.Mutex
	files       map[string]string
	uploads     []string // remote paths, in order
	commands    []string
	reconnects  int
	failUploads int // transport errors before uploads succeed
	answer      func(command string, stdout io.Writer) (int, error)
}

func newFake() *fakeComm {
	return &fakeComm{files: map[string]string{}}
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
	f.files[dst] = string(data)
	f.uploads = append(f.uploads, dst)
	return nil
}

func (f *fakeComm) UploadDir(context.Context, string, string) error {
	return errors.New("not used by sysprep")
}

func (f *fakeComm) Download(context.Context, string, io.Writer) error {
	return errors.New("not used by sysprep")
}

func (f *fakeComm) DownloadDir(context.Context, string, string) error {
	return errors.New("not used by sysprep")
}

func (f *fakeComm) Reconnect(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnects++
	return nil
}

// Patterns of what the simulated Windows guest takes for a command that
// stops or restarts Windows (winspec.md), matched more loosely than the
// guest does: anywhere in the text, across lines, case-insensitively. A
// script none of them matches stops nothing in the guest.
var stopPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?is)ec2launch(\.exe)?\b.*\bsysprep\b.*(--shutdown|\s-s(\s|$))`),
	regexp.MustCompile(`(?i)sysprepinstance\.ps1`),
	regexp.MustCompile(`(?is)ec2config\.exe.*-sysprep`),
	regexp.MustCompile(`(?is)sysprep\.exe.*/shutdown`),
	regexp.MustCompile(`(?i)shutdown(\.exe)?\s+[/-][sr]\b`),
	regexp.MustCompile(`(?i)(stop|restart)-computer`),
}

// stopsGuest reports whether the guest could take text for a command that
// stops Windows, and which pattern matches.
func stopsGuest(text string) (bool, string) {
	for _, re := range stopPatterns {
		if re.MatchString(text) {
			return true, re.String()
		}
	}
	return false, ""
}

// isToolScript reports whether text starts like one of imgbuild's tool
// scripts, which the guest interprets instead of running.
func isToolScript(text string) bool {
	return strings.HasPrefix(text, "# imgbuild ")
}

package windowsrestart

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/imgbuild/imgbuild/internal/provision"
)

var (
	errDisconnected = errors.New("connection lost")
	errRefused      = errors.New("connection refused")
)

// fakeWindows is an instance that restarts: restart_command answers the
// next of restartCodes (0 when none are left); on 0 the instance goes
// down after dropAfter (with dropAfter < 0 the command itself loses the
// connection) and stays down for downFor. A connection made before a
// restart fails until Reconnect, which fails while the instance is down.
// Events name each command and reconnect with the boot it reached.
// Times are synctest's.
type fakeWindows struct {
	restartCodes []int
	dropAfter    time.Duration
	downFor      time.Duration
	checkFails   int      // restart checks that exit 1 after the restart
	pending      []string // registry keys that exist, one registry check each
	registryBody string   // the last registry check's decoded script

	mu        sync.Mutex
	events    []string
	boot      int // restarts so far
	connBoot  int // boot the connection was made in
	downFrom  time.Time
	downUntil time.Time
}

func (f *fakeWindows) Run(_ context.Context, cmd *provision.Cmd) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	kind := f.kind(cmd.Command)
	if f.connBoot != f.boot || f.isDown() {
		f.events = append(f.events, kind+" (disconnected)")
		return 0, errDisconnected
	}
	f.events = append(f.events, fmt.Sprintf("%s boot=%d", kind, f.boot))
	switch kind {
	case "restart":
		code := 0
		if len(f.restartCodes) > 0 {
			code, f.restartCodes = f.restartCodes[0], f.restartCodes[1:]
		}
		if code == 0 {
			f.downFrom = time.Now().Add(max(f.dropAfter, 0))
			f.downUntil = f.downFrom.Add(f.downFor)
			if f.dropAfter < 0 {
				f.advance()
				return 0, errDisconnected
			}
		}
		return code, nil
	case "check":
		if f.checkFails > 0 && f.boot > 0 {
			f.checkFails--
			fmt.Fprintln(cmd.Stdout, "not yet")
			return 1, nil
		}
		fmt.Fprintln(cmd.Stdout, "restarted.")
		return 0, nil
	case "registry":
		if len(f.pending) > 0 {
			fmt.Fprintln(cmd.Stdout, f.pending[0])
			f.pending = f.pending[1:]
		}
		return 0, nil
	}
	return 0, fmt.Errorf("unexpected command %q", cmd.Command)
}

// advance starts the scheduled restart once its time has come.
func (f *fakeWindows) advance() {
	if !f.downFrom.IsZero() && !time.Now().Before(f.downFrom) {
		f.boot++
		f.downFrom = time.Time{}
	}
}

func (f *fakeWindows) isDown() bool {
	return time.Now().Before(f.downUntil) && f.downFrom.IsZero()
}

// kind names a command for the event list.
func (f *fakeWindows) kind(command string) string {
	switch {
	case command == DefaultRestartCommand || command == "custom-restart":
		return "restart"
	case command == DefaultRestartCheckCommand || command == "custom-check":
		return "check"
	case strings.HasPrefix(command, "powershell.exe -EncodedCommand "):
		f.registryBody = decode(strings.TrimPrefix(command, "powershell.exe -EncodedCommand "))
		return "registry"
	}
	return command
}

func (f *fakeWindows) Reconnect(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.advance()
	if f.isDown() {
		f.events = append(f.events, "reconnect (refused)")
		return errRefused
	}
	f.events = append(f.events, fmt.Sprintf("reconnect boot=%d", f.boot))
	f.connBoot = f.boot
	return nil
}

func (f *fakeWindows) Upload(context.Context, string, io.Reader, os.FileMode) error {
	return errors.New("not used by windows-restart")
}

func (f *fakeWindows) UploadDir(context.Context, string, string) error {
	return errors.New("not used by windows-restart")
}

func (f *fakeWindows) Download(context.Context, string, io.Writer) error {
	return errors.New("not used by windows-restart")
}

func (f *fakeWindows) DownloadDir(context.Context, string, string) error {
	return errors.New("not used by windows-restart")
}

// decode reverses encodedCommand.
func decode(b64 string) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b)%2 != 0 {
		return "undecodable: " + b64
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(units))
}

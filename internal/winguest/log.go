package winguest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Kinds of guest log events.
const (
	KindBoot       = "boot"        // the machine booted (first boot, after a restart, after a stop)
	KindUserData   = "userdata"    // a user data script ran (text, passwords masked)
	KindCommand    = "command"     // a command line, or the decoded script of -EncodedCommand
	KindScript     = "script"      // the content of a script file a command ran (path, text)
	KindFile       = "file"        // a file was written (path, size, sha256)
	KindElevated   = "elevated"    // a command run as another user (user, text)
	KindRestart    = "restart"     // the machine restarts: connections drop
	KindSysprep    = "sysprep"     // an AWS agent's Sysprep with shutdown
	KindPoweroff   = "poweroff"    // shutdown /s or Stop-Computer
	KindAuthFailed = "auth-failed" // a logon with a wrong password (user)
)

// Event is one line of the guest log.
type Event struct {
	Time   string `json:"time"` // RFC 3339 with nanoseconds
	Kind   string `json:"kind"`
	User   string `json:"user,omitempty"`
	Text   string `json:"text,omitempty"`
	Path   string `json:"path,omitempty"`
	Size   *int64 `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Exit   *int   `json:"exit,omitempty"`
}

// ReadLog reads a guest log.
func ReadLog(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var events []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		events = append(events, e)
	}
	return events, sc.Err()
}

// guestLog appends events to the log file as JSON lines. Text is masked
// (see maskSecrets) before it is written.
type guestLog struct {
	mu   sync.Mutex
	path string
}

func newEvent(kind string) Event {
	return Event{Time: time.Now().UTC().Format(time.RFC3339Nano), Kind: kind}
}

// write appends events, in order, in one write.
func (l *guestLog) write(events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	var buf []byte
	for _, e := range events {
		e.Text = maskSecrets(e.Text)
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func intPtr(n int) *int       { return &n }
func int64Ptr(n int64) *int64 { return &n }

// Package testwait helps tests wait for an event without sleeping: a
// logger and a writer that signal when a text appears, bounded waits that
// guard against hangs (never timing assertions), and a free loopback port.
// It imports nothing of imgbuild, so any package's own tests can use it.
package testwait

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// hangGuard is how long Wait and Eventually wait before they fail the
// test: a guard against a hang, not a timing assertion.
const hangGuard = 20 * time.Second

// LogSignal returns a debug logger that writes to the test log and a
// channel closed the first time a log line contains msg, so tests can wait
// for an event without sleeping.
func LogSignal(t testing.TB, msg string) (hclog.Logger, <-chan struct{}) {
	seen := make(chan struct{})
	var once sync.Once
	w := writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte(msg)) {
			once.Do(func() { close(seen) })
		}
		t.Logf("log: %s", bytes.TrimSpace(p))
		return len(p), nil
	})
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: w}), seen
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// SignalWriter is a concurrency-safe buffer whose Seen channel is closed
// when its content first contains the text it waits for.
type SignalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	once sync.Once
	seen chan struct{}
}

// NewSignalWriter returns a SignalWriter waiting for want.
func NewSignalWriter(want string) *SignalWriter {
	return &SignalWriter{want: want, seen: make(chan struct{})}
}

// Write appends p.
func (w *SignalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// Seen is closed once the content contains the awaited text.
func (w *SignalWriter) Seen() <-chan struct{} { return w.seen }

// String returns what was written.
func (w *SignalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Wait fails the test if ch is not closed within a generous limit.
func Wait(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(hangGuard):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Eventually polls cond until it holds, failing after a generous limit.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

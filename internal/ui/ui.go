// Package ui writes what users read: progress lines, summaries and rendered
// diagnostics. Logs for developers go through go-hclog instead.
package ui

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// UI serialises output from concurrent builds onto one terminal.
type UI struct {
	mu     sync.Mutex
	out    io.Writer
	errOut io.Writer
	masker *Masker
	// machine switches to machine-readable output (see machine.go).
	machine bool
	// timestamps prefixes each line with an RFC3339 time (-timestamp-ui);
	// now is the clock (time.Now, replaced in tests).
	timestamps bool
	now        func() time.Time
	// above, while progress bars are live, takes the lines meant for out
	// and prints them above the bars (see progress.go).
	above io.Writer
}

// New returns a UI writing normal output to out and errors to errOut.
func New(out, errOut io.Writer) *UI {
	return &UI{out: out, errOut: errOut, masker: &Masker{}, now: time.Now}
}

// SetTimestamps switches Packer's -timestamp-ui on or off: each line
// (output and errors, not machine-readable events) starts with the time in
// RFC3339 and ": ".
func (u *UI) SetTimestamps(on bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.timestamps = on
}

// Masker returns the UI's secret masker; values added to it are replaced by
// "<sensitive>" in everything the UI prints.
func (u *UI) Masker() *Masker { return u.masker }

// Say prints one line of normal output.
func (u *UI) Say(format string, args ...any) {
	u.line(u.out, fmt.Sprintf(format, args...))
}

// Sayf prints one line prefixed "==> prefix: ", the form used for build
// progress when builds run in parallel.
func (u *UI) Sayf(prefix, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if u.MachineReadable() {
		u.Event(prefix, "ui", "say", u.masker.Mask(msg))
		return
	}
	u.line(u.out, "==> "+prefix+": "+msg)
}

// Error prints one line to the error stream, prefixed "imgbuild: error: ".
func (u *UI) Error(format string, args ...any) {
	u.line(u.errOut, "imgbuild: error: "+fmt.Sprintf(format, args...))
}

// Hint prints a follow-up line to the error stream.
func (u *UI) Hint(format string, args ...any) {
	u.line(u.errOut, "imgbuild: hint: "+fmt.Sprintf(format, args...))
}

func (u *UI) line(w io.Writer, s string) {
	if u.MachineReadable() {
		// Packer's machine-readable UI prints everything, errors
		// included, as events on standard output.
		kind := "say"
		if w == u.errOut {
			kind = "error"
		}
		u.Event("", "ui", kind, s)
		return
	}
	u.mu.Lock()
	if u.timestamps {
		s = u.now().Format(time.RFC3339) + ": " + s
	}
	u.mu.Unlock()
	u.write(w, u.masker.Mask(s))
}

// write prints one already-masked line.
func (u *UI) write(w io.Writer, s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if w == u.out && u.above != nil {
		w = u.above
	}
	fmt.Fprintln(w, s)
}

// setAbove sets (or with nil, clears) the writer that takes out's lines.
func (u *UI) setAbove(w io.Writer) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.above = w
}

// Out returns the normal output stream (for bulk output such as a graph).
func (u *UI) Out() io.Writer { return u.out }

// Err returns the error stream.
func (u *UI) Err() io.Writer { return u.errOut }

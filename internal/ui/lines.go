package ui

import (
	"bytes"
	"sync"
)

// LineWriter returns a writer that prints every complete line written to
// it as "    <prefix>: <line>" (masked), the form of streamed command
// output. Close flushes a final partial line.
func (u *UI) LineWriter(prefix string) *LineWriter {
	return &LineWriter{u: u, prefix: "    " + prefix + ": "}
}

// LineWriter splits a stream into prefixed lines. It is safe for
// concurrent use (stdout and stderr of one command may share it).
type LineWriter struct {
	u      *UI
	prefix string
	mu     sync.Mutex
	buf    []byte
}

// Write buffers p and prints each complete line.
func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.u.line(w.u.out, w.prefix+string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// Close prints what is left of a last line without a newline.
func (w *LineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.u.line(w.u.out, w.prefix+string(w.buf))
		w.buf = nil
	}
	return nil
}

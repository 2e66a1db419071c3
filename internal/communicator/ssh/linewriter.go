package ssh

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds a buffered partial line: a partial line that grows
// beyond it is written in pieces, each prefixed, so output without
// newlines cannot grow memory without bound.
const maxLine = 64 << 10

// LineWriter splits a command's output into lines and writes each one to
// an underlying writer prefixed, for example with "==> build.source: ". A
// trailing "\r" (from a PTY) is dropped. Partial lines are held until their
// newline arrives or Close is called, which writes the remainder followed
// by a newline. It is safe for concurrent use, so one LineWriter can take
// both Stdout and Stderr of a [Cmd].
type LineWriter struct {
	mu     sync.Mutex
	prefix []byte
	w      io.Writer
	buf    []byte
	err    error
}

// NewLineWriter returns a LineWriter that writes prefixed lines to w.
func NewLineWriter(prefix string, w io.Writer) *LineWriter {
	return &LineWriter{prefix: []byte(prefix), w: w}
}

// Write buffers p and writes every complete line. It returns len(p) unless
// writing to the underlying writer failed, after which every call returns
// that error.
func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	l.buf = append(l.buf, p...)
	rest := l.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		l.writeLine(rest[:i])
		rest = rest[i+1:]
	}
	for len(rest) >= maxLine {
		l.writeLine(rest[:maxLine])
		rest = rest[maxLine:]
	}
	l.buf = l.buf[:copy(l.buf, rest)] // keep the partial line, reuse the array
	if l.err != nil {
		return 0, l.err
	}
	return len(p), nil
}

// Close writes a final partial line, if any. The underlying writer is not
// closed. Writing after Close starts a new line.
func (l *LineWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 && l.err == nil {
		l.writeLine(l.buf)
		l.buf = nil
	}
	return l.err
}

func (l *LineWriter) writeLine(line []byte) {
	if l.err != nil {
		return
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	out := make([]byte, 0, len(l.prefix)+len(line)+1)
	out = append(append(append(out, l.prefix...), line...), '\n')
	_, l.err = l.w.Write(out)
}

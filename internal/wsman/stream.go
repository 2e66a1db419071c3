package wsman

import (
	"io"
	"sync"
)

// output holds what a command wrote to stdout and stderr until a Receive
// takes it, and the exit code once the command is done. Writes never block:
// the data stays in memory until the client asks for it.
type output struct {
	mu     sync.Mutex
	stdout []byte
	stderr []byte
	done   bool
	exit   int
	// wake is closed, and replaced, whenever something changes, so that a
	// waiting Receive looks again.
	wake chan struct{}
}

func newOutput() *output {
	return &output{wake: make(chan struct{})}
}

// changed wakes the waiting Receives. The caller holds o.mu.
func (o *output) changed() {
	close(o.wake)
	o.wake = make(chan struct{})
}

// finish records the exit code: the command writes nothing more.
func (o *output) finish(exit int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done, o.exit = true, exit
	o.changed()
}

// chunk is what one Receive returns.
type chunk struct {
	stdout, stderr []byte
	done           bool // the command finished and everything it wrote is in this chunk or was sent before
	exit           int
}

// take removes up to max bytes of pending output, stdout first. When there
// is nothing to return yet it also returns a channel that is closed at the
// next change.
func (o *output) take(max int) (chunk, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var c chunk
	n := min(max, len(o.stdout))
	c.stdout, o.stdout = o.stdout[:n:n], o.stdout[n:]
	n = min(max-n, len(o.stderr))
	c.stderr, o.stderr = o.stderr[:n:n], o.stderr[n:]
	if o.done && len(o.stdout) == 0 && len(o.stderr) == 0 {
		c.done, c.exit = true, o.exit
	}
	if len(c.stdout) == 0 && len(c.stderr) == 0 && !c.done {
		return c, o.wake
	}
	return c, nil
}

// streamWriter is the io.Writer an executor gets for stdout or stderr.
type streamWriter struct {
	o      *output
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	if w.stderr {
		w.o.stderr = append(w.o.stderr, p...)
	} else {
		w.o.stdout = append(w.o.stdout, p...)
	}
	if len(p) > 0 {
		w.o.changed()
	}
	return len(p), nil
}

// input is a command's stdin: Send appends without waiting for the
// executor, Read blocks until there is data or the stream is closed.
type input struct {
	mu   sync.Mutex
	cond *sync.Cond
	buf  []byte
	eof  bool
}

func newInput() *input {
	in := &input{}
	in.cond = sync.NewCond(&in.mu)
	return in
}

// write appends data the client sent; data after the end is dropped.
func (in *input) write(p []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.eof {
		return
	}
	in.buf = append(in.buf, p...)
	in.cond.Broadcast()
}

// close ends the stream: Read returns io.EOF once the buffer is drained.
func (in *input) close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.eof = true
	in.cond.Broadcast()
}

func (in *input) Read(p []byte) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for len(in.buf) == 0 && !in.eof {
		in.cond.Wait()
	}
	if len(in.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, in.buf)
	in.buf = in.buf[n:]
	return n, nil
}

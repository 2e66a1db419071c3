package provision

import (
	"bytes"
	"strings"
	"sync"
)

// TailBuffer keeps the last 4 KiB written to it, to quote a remote
// program's stderr in errors (Cmd.Stderr). It is safe for concurrent use.
type TailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const tailMax = 4 << 10

// Write keeps the end of what was written.
func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - tailMax; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

// String returns what is kept, without surrounding white space.
func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}

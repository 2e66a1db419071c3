package winrm

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// base64Writer decodes the base64 text written to it as it arrives and
// writes the bytes to w. White space (line ends) is skipped, and padded
// blocks may follow one another (each "=" ends a block). Close reports
// text that does not end on a whole block.
type base64Writer struct {
	w       io.Writer
	pending []byte // base64 characters not decoded yet
	out     []byte
}

func (b *base64Writer) Write(p []byte) (int, error) {
	for _, c := range p {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			b.pending = append(b.pending, c)
		}
	}
	whole := len(b.pending) / 4 * 4
	src := b.pending[:whole]
	for len(src) > 0 {
		end := len(src)
		if i := bytes.IndexByte(src, '='); i >= 0 {
			end = (i/4 + 1) * 4 // up to the end of the padded quantum
		}
		if n := base64.StdEncoding.DecodedLen(end); cap(b.out) < n {
			b.out = make([]byte, n)
		}
		n, err := base64.StdEncoding.Decode(b.out[:cap(b.out)], src[:end])
		if err != nil {
			return 0, fmt.Errorf("file content is not valid base64: %w", err)
		}
		if _, err := b.w.Write(b.out[:n]); err != nil {
			return 0, err
		}
		src = src[end:]
	}
	b.pending = b.pending[:copy(b.pending, b.pending[whole:])]
	return len(p), nil
}

// Close checks that nothing is left over; it does not close w.
func (b *base64Writer) Close() error {
	if len(b.pending) > 0 {
		return errors.New("file content ends with a partial base64 block")
	}
	return nil
}

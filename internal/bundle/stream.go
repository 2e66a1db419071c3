package bundle

import (
	"context"
	"crypto/cipher"
	"errors"
)

// partPool hands out at most n buffers of one part each and takes them back.
type partPool struct {
	free chan []byte
	made chan struct{} // one token per buffer allocated
	size int64
}

func newPartPool(n int, size int64) *partPool {
	return &partPool{free: make(chan []byte, n), made: make(chan struct{}, n), size: size}
}

// get returns an empty buffer, allocating one while fewer than n exist and
// otherwise waiting for one to come back.
func (p *partPool) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.free:
		return b[:0], nil
	default:
	}
	select {
	case b := <-p.free:
		return b[:0], nil
	case p.made <- struct{}{}:
		return make([]byte, 0, p.size), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (p *partPool) put(b []byte) {
	select {
	case p.free <- b:
	default: // cannot happen: never more than n buffers
	}
}

// cbcWriter encrypts what is written with AES-CBC and writes the
// ciphertext to next; Close adds the PKCS#7 padding.
type cbcWriter struct {
	mode    cipher.BlockMode
	next    interface{ Write([]byte) (int, error) }
	pending []byte // < one block of plaintext not yet encrypted
	buf     []byte
}

func newCBCWriter(mode cipher.BlockMode, next interface{ Write([]byte) (int, error) }) *cbcWriter {
	return &cbcWriter{mode: mode, next: next, buf: make([]byte, 0, 256<<10)}
}

func (w *cbcWriter) Write(p []byte) (int, error) {
	n := len(p)
	bs := w.mode.BlockSize()
	for {
		// buf = the pending bytes and as much of p as makes whole blocks.
		w.buf = append(w.buf[:0], w.pending...)
		whole := (len(w.buf) + min(len(p), cap(w.buf)-len(w.buf))) / bs * bs
		if whole == 0 {
			w.pending = append(w.pending, p...)
			return n, nil
		}
		take := whole - len(w.buf)
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		w.pending = w.pending[:0]
		w.mode.CryptBlocks(w.buf, w.buf)
		if _, err := w.next.Write(w.buf); err != nil {
			return 0, err
		}
		if len(p) < bs {
			w.pending = append(w.pending, p...)
			return n, nil
		}
	}
}

// Close pads and encrypts the last block (a whole block of padding when the
// plaintext ends on a block boundary).
func (w *cbcWriter) Close() error {
	bs := w.mode.BlockSize()
	pad := bs - len(w.pending)
	last := append(append([]byte{}, w.pending...), make([]byte, pad)...)
	for i := len(w.pending); i < bs; i++ {
		last[i] = byte(pad)
	}
	w.mode.CryptBlocks(last, last)
	w.pending = nil
	_, err := w.next.Write(last)
	return err
}

// partWriter cuts what is written into parts of size bytes and sends each
// full one on out.
type partWriter struct {
	ctx    context.Context
	pool   *partPool
	out    chan<- Part
	size   int64
	name   func(i int) string
	cur    []byte
	index  int
	total  int64
	closed bool
}

func (w *partWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.cur == nil {
			b, err := w.pool.get(w.ctx)
			if err != nil {
				return 0, err
			}
			w.cur = b
		}
		take := min(int64(len(p)), w.size-int64(len(w.cur)))
		w.cur = append(w.cur, p[:take]...)
		p = p[take:]
		if int64(len(w.cur)) == w.size {
			if err := w.send(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *partWriter) send() error {
	part := Part{Index: w.index, Name: w.name(w.index), Data: w.cur}
	select {
	case w.out <- part:
	case <-w.ctx.Done():
		return context.Cause(w.ctx)
	}
	w.total += int64(len(w.cur))
	w.index++
	w.cur = nil
	return nil
}

// Close sends the last, short part.
func (w *partWriter) Close() error {
	if w.closed {
		return errors.New("part writer closed twice")
	}
	w.closed = true
	if len(w.cur) > 0 {
		return w.send()
	}
	return nil
}

package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/sync/errgroup"
)

// PartSource opens a part by its file name. When the part does not exist
// the error wraps fs.ErrNotExist.
type PartSource func(ctx context.Context, name string) (io.ReadCloser, error)

// PartError is a problem with one part: missing, unreadable or with the
// wrong digest.
type PartError struct {
	Part string
	Err  error
}

func (e *PartError) Error() string { return "part " + e.Part + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PartError) Unwrap() error { return e.Err }

// ErrDigest says a part's or the image's digest differs from the
// manifest's (it is wrapped, with both digests).
var ErrDigest = errors.New("digest differs from the manifest's")

// checkConcurrency is how many parts CheckParts reads at once.
const checkConcurrency = 4

// CheckParts reads every part, checks it exists and its SHA-1 (PartError
// naming the part otherwise), and that the parts add up to the manifest's
// bundled size. Every bad part is reported, in part order.
func CheckParts(ctx context.Context, m *Manifest, src PartSource) error {
	errs := make([]error, len(m.Parts))
	sizes := make([]int64, len(m.Parts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(checkConcurrency)
	for i, p := range m.Parts {
		g.Go(func() error {
			n, err := checkPart(gctx, src, p, io.Discard)
			sizes[i], errs[i] = n, err
			return gctx.Err() // only cancellation stops the others
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var total int64
	for _, n := range sizes {
		total += n
	}
	if total != m.BundledSize {
		return fmt.Errorf("the parts hold %d bytes, the manifest's bundled_size is %d", total, m.BundledSize)
	}
	return nil
}

// checkPart copies part p from src to w while hashing it and returns its
// size, or a PartError.
func checkPart(ctx context.Context, src PartSource, p PartInfo, w io.Writer) (int64, error) {
	rc, err := src(ctx, p.Name)
	if err != nil {
		return 0, &PartError{Part: p.Name, Err: err}
	}
	defer rc.Close()
	h := sha1.New()
	n, err := io.Copy(io.MultiWriter(h, w), rc)
	if err != nil {
		return n, &PartError{Part: p.Name, Err: fmt.Errorf("read: %w", err)}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA1 {
		return n, &PartError{Part: p.Name, Err: fmt.Errorf("%w: SHA-1 %s, manifest %s", ErrDigest, got, p.SHA1)}
	}
	return n, nil
}

// Read checks each part's digest, decrypts with key/iv, gunzips, checks
// the tar has exactly one member named m.Name, its size m.Size and the tar
// stream's SHA-1 m.Digest, and writes the image to w. A part is checked
// whole before any of it is decrypted, so a corrupted part is reported as
// a PartError naming it, not as a decompression error. Parts are fetched
// one ahead of the one being unpacked.
func Read(ctx context.Context, m *Manifest, key, iv []byte, src PartSource, w io.Writer) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("bundle key: %w", err)
	}
	if len(iv) != block.BlockSize() {
		return fmt.Errorf("bundle IV is %d bytes, want %d", len(iv), block.BlockSize())
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Three part buffers: one being read, one fetched and waiting, one
	// being fetched; each is reused.
	pool := newPartPool(3, partSizeHint(m))
	fetched := make(chan []byte, 1)
	var fetchErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(fetched)
		fetchErr = fetchParts(fctx, m, src, pool, fetched)
	}()
	err = unpack(&cbcReader{mode: cipher.NewCBCDecrypter(block, iv), r: &partsReader{ch: fetched, pool: pool}}, m, w)
	cancel()
	for range fetched { // let the fetcher see the cancellation
	}
	<-done
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	// A part the fetcher refused truncates the stream: report the part.
	if fetchErr != nil && !errors.Is(fetchErr, context.Canceled) {
		return fetchErr
	}
	return err
}

// fetchParts reads each part whole, checks its digest and sends it on out.
func fetchParts(ctx context.Context, m *Manifest, src PartSource, pool *partPool, out chan<- []byte) error {
	var total int64
	for _, p := range m.Parts {
		buf, err := pool.get(ctx)
		if err != nil {
			return err
		}
		b := bytes.NewBuffer(buf)
		n, err := checkPart(ctx, src, p, b)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		total += n
		select {
		case out <- b.Bytes():
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if total != m.BundledSize {
		return fmt.Errorf("the parts hold %d bytes, the manifest's bundled_size is %d", total, m.BundledSize)
	}
	return nil
}

// partSizeHint is the size of a bundle's parts, from the manifest: all
// but the last are the same size, at most bundled_size/(count-1). It is
// only a hint for allocating buffers, so it is bounded.
func partSizeHint(m *Manifest) int64 {
	n := max(int64(len(m.Parts))-1, 1)
	return min((m.BundledSize+n-1)/n, 4*defaultPartSize)
}

// partsReader reads the concatenation of the buffers sent on ch, handing
// each back to pool once read.
type partsReader struct {
	ch   <-chan []byte
	pool *partPool
	buf  []byte // the buffer being read
	cur  []byte // what is left of it
}

func (r *partsReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.buf != nil {
			r.pool.put(r.buf)
			r.buf = nil
		}
		b, ok := <-r.ch
		if !ok {
			return 0, io.EOF
		}
		r.buf, r.cur = b, b
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// unpack gunzips the plaintext, checks the tar stream and writes its one
// member to w.
func unpack(plain io.Reader, m *Manifest, w io.Writer) error {
	zr, err := gzip.NewReader(plain)
	if err != nil {
		return fmt.Errorf("decompress: %w (was the bundle decrypted with the right key?)", err)
	}
	sum := sha1.New()
	stream := io.TeeReader(zr, sum)
	tr := tar.NewReader(stream)
	hdr, err := tr.Next()
	if err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	if hdr.Name != m.Name && hdr.Name != "./"+m.Name {
		return fmt.Errorf("tar member is %q, the manifest names %q", hdr.Name, m.Name)
	}
	if !slices.Contains([]byte{tar.TypeReg, tar.TypeGNUSparse}, hdr.Typeflag) {
		return fmt.Errorf("tar member %q is not a regular file (type %q)", hdr.Name, hdr.Typeflag)
	}
	if hdr.Size != m.Size {
		return fmt.Errorf("tar member %q holds %d bytes, the manifest's size is %d", hdr.Name, hdr.Size, m.Size)
	}
	n, err := io.Copy(w, tr)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", hdr.Name, err)
	}
	if n != m.Size {
		return fmt.Errorf("tar member %q ended after %d of %d bytes", hdr.Name, n, m.Size)
	}
	if _, err := tr.Next(); err != io.EOF {
		if err == nil {
			return errors.New("the tar stream holds more than one member")
		}
		return fmt.Errorf("tar: %w", err)
	}
	// The digest covers the whole tar stream, record padding included.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != m.Digest {
		return fmt.Errorf("image %w: SHA-1 of the tar stream %s, manifest %s", ErrDigest, got, m.Digest)
	}
	return nil
}

// cbcReader decrypts AES-CBC and strips the PKCS#7 padding, holding the
// last block back until the ciphertext ends.
type cbcReader struct {
	mode    cipher.BlockMode
	r       io.Reader
	in, out []byte
	buf     []byte // decrypted, not yet returned
	held    []byte // the last decrypted block: padding, if nothing follows
	err     error
}

func (c *cbcReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		c.fill()
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

func (c *cbcReader) fill() {
	bs := c.mode.BlockSize()
	if c.in == nil {
		c.in = make([]byte, 256<<10)
		c.held = make([]byte, 0, bs)
	}
	n, err := io.ReadFull(c.r, c.in)
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		err = io.EOF
	default:
		c.err = err
		return
	}
	if n%bs != 0 {
		c.err = fmt.Errorf("ciphertext is not a whole number of %d-byte blocks", bs)
		return
	}
	c.mode.CryptBlocks(c.in[:n], c.in[:n])
	out := append(append(c.out[:0], c.held...), c.in[:n]...)
	c.out = out
	if err == io.EOF {
		c.err = io.EOF
		if len(out) < bs {
			c.err = errors.New("ciphertext is empty")
			return
		}
		pad := int(out[len(out)-1])
		if pad < 1 || pad > bs || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
			c.err = errors.New("bad padding after decryption (wrong key or IV?)")
			return
		}
		c.buf = out[:len(out)-pad]
		return
	}
	keep := len(out) - bs
	c.held = append(c.held[:0], out[keep:]...)
	c.buf = out[:keep]
}

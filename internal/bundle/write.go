package bundle

import (
	"archive/tar"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/pgzip"
	"golang.org/x/sync/errgroup"
)

// compressionLevel is the gzip level parts are compressed at. Measured on
// 384 MiB of /usr as file-system blocks, 2 workers on a 2-core machine
// (output size relative to the input; gzip -9 is what the ec2-ami-tools
// run): level 9 0.314 at 34 MB/s, 7 0.317 at 168 MB/s, 6 0.323 at
// 245 MB/s, 5 0.327 at 261 MB/s, 4 0.336 at 310 MB/s, 1 0.367 at
// 440 MB/s; gzip -9 0.306 at 11 MB/s. Level 6 is within 6% of gzip -9's
// size at over 20 times its speed; level 7 saves another 2% of the
// upload at a third less speed, and levels below 6 give up more size than
// the speed they gain is worth once parts go over a network.
const compressionLevel = 6

// compressBlock is the size of the blocks compressed in parallel; each
// block starts with the 32 KiB before it as dictionary, so the size lost
// to parallelism is small.
const compressBlock = 1 << 20

// Write bundles size bytes of the raw image read from image. It calls put
// for every part as soon as it is complete (up to Uploads at once, any
// order; put must not keep Data after it returns; retries are put's
// business) and returns the signed manifest after every put returned.
// Nothing is written to disk. Cancel via ctx; a cancelled Write returns
// once every goroutine it started has ended (a Read of image in progress
// is waited for).
func Write(ctx context.Context, image io.Reader, size int64, o Options, put func(context.Context, Part) error) (*Manifest, error) {
	o, err := o.checked()
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("image size %d is negative", size)
	}
	if put == nil {
		return nil, errors.New("bundle: no put function")
	}
	key, iv := make([]byte, 16), make([]byte, 16)
	rand.Read(key)
	rand.Read(iv)
	m := &Manifest{
		Name: o.Name, Account: o.Account, Arch: o.Arch, Size: size,
		Mappings: o.Mappings, KernelID: o.KernelID, RamdiskID: o.RamdiskID, Ancestors: slices.Clone(o.Ancestors),
	}
	if err := m.wrapKeys(o, key, iv); err != nil {
		return nil, err
	}

	g, gctx := errgroup.WithContext(ctx)
	parts := make(chan Part)
	pool := newPartPool(o.Uploads+2, o.PartSize)
	var read atomic.Int64
	digits := partDigits(size, len(o.Name), o.PartSize)
	var total int64
	g.Go(func() error {
		defer close(parts)
		// The producer's own context lets it stop the part writer before
		// waiting for the compressor's goroutines when it fails itself.
		pctx, stop := context.WithCancel(gctx)
		defer stop()
		pw := &partWriter{ctx: pctx, pool: pool, out: parts, size: o.PartSize,
			name: func(i int) string { return partName(o.Name, digits, i) }}
		digest, err := produce(pctx, stop, image, size, o, key, iv, pw, &read)
		if err != nil {
			return err
		}
		m.Digest, total = digest, pw.total
		return nil
	})
	up := &uploader{o: o, put: put, pool: pool, read: &read, size: size}
	g.Go(func() error { return up.dispatch(gctx, g, parts) })
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("bundle %s: %w", o.Name, context.Cause(ctx))
		}
		return nil, fmt.Errorf("bundle %s: %w", o.Name, err)
	}
	m.Parts, m.BundledSize = up.infos, total
	for i, p := range m.Parts {
		if p.Name == "" {
			return nil, fmt.Errorf("bundle %s: part %d was never handed to put", o.Name, i)
		}
	}
	if err := m.sign(o.UserKey); err != nil {
		return nil, err
	}
	return m, nil
}

// wrapKeys fills the four wrapped-key fields.
func (m *Manifest) wrapKeys(o Options, key, iv []byte) error {
	userPub, _ := rsaPublic("user", o.UserCert)
	ec2Pub, _ := rsaPublic("EC2", o.EC2Cert)
	for _, w := range []struct {
		dst    *string
		pub    *rsa.PublicKey
		secret []byte
		what   string
	}{
		{&m.ec2Key, ec2Pub, key, "key for the EC2 certificate"},
		{&m.userKey, userPub, key, "key for the user certificate"},
		{&m.ec2IV, ec2Pub, iv, "IV for the EC2 certificate"},
		{&m.userIV, userPub, iv, "IV for the user certificate"},
	} {
		var err error
		if *w.dst, err = wrap(w.pub, w.secret); err != nil {
			return fmt.Errorf("wrap the %s: %w", w.what, err)
		}
	}
	return nil
}

// produce writes the tar stream of the image through the digest and gzip
// into the cipher and the part writer, and returns the tar stream's SHA-1.
func produce(ctx context.Context, stop context.CancelFunc, image io.Reader, size int64, o Options, key, iv []byte, pw *partWriter, read *atomic.Int64) (digest string, err error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	enc := newCBCWriter(cipher.NewCBCEncrypter(block, iv), pw)
	zw, err := pgzip.NewWriterLevel(enc, compressionLevel)
	if err != nil {
		return "", err
	}
	if err := zw.SetConcurrency(compressBlock, o.Workers); err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			// Stop the part writer, then the compressor's goroutines: with
			// an error pending they drop the blocks still queued.
			stop()
			zw.Reset(io.Discard)
		}
	}()
	sum := sha1.New()
	if err := writeTar(io.MultiWriter(sum, zw), &ctxReader{ctx: ctx, r: image, n: read}, size, o.Name); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	if err := pw.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// tarRecord is the record size GNU tar pads its output to (blocking factor 20).
const tarRecord = 20 * 512

// writeTar writes a tar stream of one member name holding size bytes of r,
// in GNU format as GNU tar writes it by default, padded to whole records.
func writeTar(w io.Writer, r io.Reader, size int64, name string) error {
	cw := &countWriter{w: w}
	tw := tar.NewWriter(cw)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		Uname:    "root",
		Gname:    "root",
		ModTime:  time.Now().Truncate(time.Second),
		Format:   tar.FormatGNU,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("tar header: %w", err)
	}
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(tw, io.LimitReader(r, size), buf)
	if err != nil {
		return fmt.Errorf("read image: %w", err)
	}
	if n < size {
		return fmt.Errorf("read image: it ended after %d of %d bytes", n, size)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	if pad := (tarRecord - cw.n%tarRecord) % tarRecord; pad > 0 {
		if _, err := cw.Write(make([]byte, pad)); err != nil {
			return fmt.Errorf("tar: %w", err)
		}
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ctxReader stops reading once ctx is done and counts what it read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	n   *atomic.Int64
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, context.Cause(r.ctx)
	}
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// uploader hands parts to put, Uploads at a time, and keeps what the
// manifest needs of each.
type uploader struct {
	o    Options
	put  func(context.Context, Part) error
	pool *partPool
	read *atomic.Int64
	size int64

	mu       sync.Mutex
	infos    []PartInfo
	progress Progress
}

func (u *uploader) dispatch(ctx context.Context, g *errgroup.Group, parts <-chan Part) error {
	slots := make(chan struct{}, u.o.Uploads)
	for p := range parts {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			u.pool.put(p.Data)
			continue // drain until the producer stops
		}
		g.Go(func() error {
			defer func() { <-slots }()
			return u.upload(ctx, p)
		})
	}
	return nil
}

func (u *uploader) upload(ctx context.Context, p Part) error {
	defer u.pool.put(p.Data)
	h := sha1.New()
	h.Write(p.Data)
	p.SHA1 = hex.EncodeToString(h.Sum(nil))
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if err := u.put(ctx, p); err != nil {
		return fmt.Errorf("put %s: %w", p.Name, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(u.infos) <= p.Index {
		u.infos = append(u.infos, PartInfo{})
	}
	u.infos[p.Index] = PartInfo{Name: p.Name, SHA1: p.SHA1}
	u.progress.Parts++
	u.progress.BundledBytes += int64(len(p.Data))
	u.progress.ImageBytes = u.read.Load()
	u.progress.ImageSize = u.size
	if u.o.Progress != nil {
		u.o.Progress(u.progress)
	}
	return nil
}

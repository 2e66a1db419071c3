package localcloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/imgbuild/imgbuild/internal/bundle"
	"github.com/imgbuild/imgbuild/internal/rootfs"
)

// RegisterImage with an ImageLocation registers an instance-store image
// from a bundle in S3, as EC2 does: the layer reads the manifest from
// moto's S3, unwraps the bundle's key with the cloud's EC2 key, reads and
// checks every part, and (with guests) extracts the ext4 image inside into
// a content layer that instances of the image boot from. moto's own
// RegisterImage keeps only the name and description, so the layer
// remembers what the image is (storeImage) and says so in DescribeImages.

// storeImage is an instance-store image registered from a bundle (or
// copied from one).
type storeImage struct {
	location   string   // bucket/key of its manifest
	parts      []string // the bundle's part names, beside the manifest
	arch       string
	virt       string // virtualization type
	rootDevice string
	windows    bool             // bundled from a Windows instance
	ephemeral  []bundle.Mapping // the manifest's ephemeralN mappings
	snapshots  []string         // moto's own snapshot of the image, not shown
}

// storeInstance is an instance launched from an instance-store image.
type storeInstance struct{ windows bool }

// errInvalidManifest is EC2's error for a bundle it cannot use. The EC2
// API reference's error codes
// (docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
// define InvalidManifest as "The specified AMI has an unparsable manifest, or you
// may not have access to the location of the manifest file in Amazon S3";
// the messages are the layer's own and say what is wrong.
func errInvalidManifest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidManifest", fmt.Sprintf(format, args...)}
}

// registerBundle handles RegisterImage with an ImageLocation; other
// RegisterImage calls go to old as before.
func (p *proxy) registerBundle(old beforeFunc) beforeFunc {
	return func(ctx context.Context, r *request) (*node, *apiError) {
		loc := r.form.Get("ImageLocation")
		if old != nil {
			if resp, aerr := old(ctx, r); resp != nil || aerr != nil || loc == "" {
				return resp, aerr
			}
		}
		if loc == "" {
			return nil, nil
		}
		return p.registerFromBundle(ctx, r, loc)
	}
}

// openedBundle is a bundle whose manifest has been read and whose key
// has been unwrapped.
type openedBundle struct {
	location, bucket, dir string // dir: the manifest's key's directory, "." for none
	m                     *bundle.Manifest
	key, iv               []byte
}

func (p *proxy) registerFromBundle(ctx context.Context, r *request, loc string) (*node, *apiError) {
	b, aerr := p.openBundle(ctx, loc)
	if aerr != nil {
		return nil, aerr
	}
	content, aerr := p.unbundle(ctx, b)
	if aerr != nil {
		return nil, aerr
	}
	defer os.RemoveAll(content)
	status, body, err := p.send(ctx, r)
	if err != nil {
		return nil, &apiError{http.StatusBadGateway, "InternalError", err.Error()}
	}
	resp, err := parseXML(body)
	if err != nil {
		return nil, &apiError{http.StatusBadGateway, "InternalError", err.Error()}
	}
	if status != http.StatusOK {
		return nil, motoError(status, resp)
	}
	id := resp.value("imageId")
	p.afterNewImage(p.s.Image)(ctx, r, resp)
	rec := &storeImage{location: loc, arch: r.form.Get("Architecture"), virt: r.form.Get("VirtualizationType"),
		rootDevice: r.form.Get("RootDeviceName"), windows: p.bundles.fromWindows(b.m.Digest)}
	rec.describe(b.m)
	if rec.snapshots, err = p.snapshotsOf(ctx, r.region, id); err != nil {
		p.log.Error("find the snapshot moto made for an instance-store image", "image", id, "region", r.region, "error", err)
	}
	if content != "" {
		if _, err := p.machines.store.Capture(imageHolder(r.region, id), nil, content); err != nil {
			p.log.Error("keep the content of a registered bundle", "image", id, "region", r.region, "error", err)
		}
	}
	p.bundles.addImage(r.region, id, rec)
	return resp, nil
}

// describe completes an image's record from its manifest: what the
// request left out comes from the manifest, or EC2's defaults.
func (s *storeImage) describe(m *bundle.Manifest) {
	for _, p := range m.Parts {
		s.parts = append(s.parts, p.Name)
	}
	root := "/dev/sda1"
	for _, mp := range m.Mappings {
		switch {
		case mp.Virtual == "root":
			root = devicePath(mp.Device)
		case strings.HasPrefix(mp.Virtual, "ephemeral"):
			s.ephemeral = append(s.ephemeral, bundle.Mapping{Virtual: mp.Virtual, Device: devicePath(mp.Device)})
		}
	}
	s.arch = firstOf(s.arch, m.Arch, "x86_64")
	s.virt = firstOf(s.virt, "paravirtual") // RegisterImage's documented default
	s.rootDevice = firstOf(s.rootDevice, root)
}

func devicePath(dev string) string {
	if strings.HasPrefix(dev, "/") {
		return dev
	}
	return "/dev/" + dev
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// motoError turns moto's error answer into the client's.
func motoError(status int, resp *node) *apiError {
	if e := resp.path("Errors", "Error"); e != nil {
		return &apiError{status, e.value("Code"), e.value("Message")}
	}
	return &apiError{status, "InternalError", "moto answered " + http.StatusText(status)}
}

// openBundle reads the manifest at loc (bucket/key) from moto's S3 and
// unwraps the bundle's key with the cloud's EC2 key.
func (p *proxy) openBundle(ctx context.Context, loc string) (*openedBundle, *apiError) {
	k, err := p.bundles.cloudKey()
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	bucket, key, _ := strings.Cut(loc, "/")
	if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return nil, errInvalidManifest("The image location %s is not of the form bucket/path/name.manifest.xml.", loc)
	}
	rc, err := p.s3Get(ctx, bucket, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errInvalidManifest("The manifest %s does not exist in Amazon S3 (%v).", loc, err)
	} else if err != nil {
		return nil, errInvalidManifest("The manifest %s cannot be read from Amazon S3: %v.", loc, err)
	}
	doc, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	rc.Close()
	if err != nil {
		return nil, errInvalidManifest("The manifest %s cannot be read from Amazon S3: %v.", loc, err)
	}
	m, err := bundle.ParseManifest(doc)
	if err != nil {
		return nil, errInvalidManifest("The manifest %s cannot be parsed: %v.", loc, err)
	}
	aesKey, iv, err := m.EC2Key(k.key)
	if err != nil {
		return nil, errInvalidManifest("The manifest %s cannot be decrypted with EC2's key: its image key was not encrypted "+
			"for this cloud's EC2 certificate (GET /_localcloud/ec2-certificate), but for another one (%v).", loc, err)
	}
	return &openedBundle{location: loc, bucket: bucket, dir: path.Dir(key), m: m, key: aesKey, iv: iv}, nil
}

// parts reads the bundle's parts from beside its manifest.
func (p *proxy) parts(b *openedBundle) bundle.PartSource {
	return func(ctx context.Context, name string) (io.ReadCloser, error) {
		key := name
		if b.dir != "." {
			key = b.dir + "/" + name
		}
		return p.s3Get(ctx, b.bucket, key)
	}
}

// unbundle reads, checks and decrypts every part. With guests it writes
// the image to a temporary file and extracts its tree into a new
// temporary directory, which it returns (the caller removes it); without,
// it only checks.
func (p *proxy) unbundle(ctx context.Context, b *openedBundle) (string, *apiError) {
	refuse := func(err error) *apiError {
		return errInvalidManifest("The bundle %s cannot be read: %v.", b.location, err)
	}
	if !p.machines.guests {
		if err := bundle.Read(ctx, b.m, b.key, b.iv, p.parts(b), io.Discard); err != nil {
			return "", refuse(err)
		}
		return "", nil
	}
	f, err := os.CreateTemp(p.machines.state, ".bundle-image-")
	if err != nil {
		return "", &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	defer os.Remove(f.Name())
	defer f.Close()
	sw := &sparseWriter{f: f}
	if err := bundle.Read(ctx, b.m, b.key, b.iv, p.parts(b), sw); err != nil {
		return "", refuse(err)
	}
	if err := f.Truncate(sw.off); err != nil {
		return "", &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	dir, err := os.MkdirTemp(p.machines.state, ".bundle-root-")
	if err != nil {
		return "", &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	if err := rootfs.Extract(ctx, f.Name(), dir); err != nil {
		os.RemoveAll(dir)
		return "", errInvalidManifest("The image in bundle %s is not an ext4 file system the local cloud can boot: %v.", b.location, err)
	}
	return dir, nil
}

// sparseWriter writes to a file, leaving holes for blocks of zeros (most
// of a file-system image).
type sparseWriter struct {
	f   *os.File
	off int64
}

func (w *sparseWriter) Write(b []byte) (int, error) {
	const block = 64 << 10
	for done := 0; done < len(b); {
		chunk := b[done:min(done+block, len(b))]
		if !isZeros(chunk) {
			if _, err := w.f.WriteAt(chunk, w.off); err != nil {
				return done, err
			}
		}
		w.off += int64(len(chunk))
		done += len(chunk)
	}
	return len(b), nil
}

var zeros = make([]byte, 64<<10)

func isZeros(b []byte) bool { return bytes.Equal(b, zeros[:len(b)]) }

// addImage records an instance-store image.
func (b *bundles) addImage(region, id string, rec *storeImage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.images[region+"/"+id] = rec
}

// image returns the record of an instance-store image, nil for others.
func (b *bundles) image(region, id string) *storeImage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.images[region+"/"+id]
}

// fromWindows reports whether the bundle of this image digest was made
// by BundleInstance from a Windows instance.
func (b *bundles) fromWindows(digest string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.windows[digest]
}

// afterDeregisterStoreImage forgets a deregistered instance-store image
// and deletes the snapshot moto made for it, which nobody sees: once the
// image is gone it would show, with the tags moto copied onto it.
func (p *proxy) afterDeregisterStoreImage(ctx context.Context, r *request, _ *node) {
	id := r.form.Get("ImageId")
	p.bundles.mu.Lock()
	im := p.bundles.images[r.region+"/"+id]
	delete(p.bundles.images, r.region+"/"+id)
	p.bundles.mu.Unlock()
	if im == nil {
		return
	}
	for _, s := range im.snapshots {
		if _, err := p.call(ctx, r.region, url.Values{"Action": {"DeleteSnapshot"}, "SnapshotId": {s}}); err != nil {
			p.log.Warn("delete moto's snapshot of a deregistered instance-store image", "image", id, "snapshot", s, "region", r.region, "error", err)
		}
	}
}

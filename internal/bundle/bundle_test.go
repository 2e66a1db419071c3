package bundle

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// TestRoundTrip bundles images of awkward sizes and reads them back with
// the user's key and with EC2's.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		partSize int64
	}{
		{"empty", 0, 1000},
		{"one byte", 1, 1000},
		{"one tar block", 512, 4096},
		{"odd part size", 300_001, 9_999},
		{"part size multiple of 16", 1 << 20, 64 << 10},
		{"one part", 100_000, defaultPartSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			image := mixedImage(tc.size, uint64(tc.size))
			o := testOptions(t, "image")
			o.PartSize = tc.partSize
			o.Workers = 3
			s := newStore()
			m, err := Write(t.Context(), bytes.NewReader(image), int64(len(image)), o, s.put)
			if err != nil {
				t.Fatal(err)
			}
			var bundled int64
			for i, p := range m.Parts {
				bundled += int64(len(s.parts[p.Name]))
				if i < len(m.Parts)-1 && int64(len(s.parts[p.Name])) != tc.partSize {
					t.Errorf("part %s has %d bytes, want %d", p.Name, len(s.parts[p.Name]), tc.partSize)
				}
			}
			if bundled != m.BundledSize || bundled%16 != 0 || len(s.parts) != len(m.Parts) {
				t.Errorf("bundled size %d, parts hold %d in %d files", m.BundledSize, bundled, len(s.parts))
			}
			parsed, err := ParseManifest(m.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if err := parsed.Verify(&testUser(t).key.PublicKey); err != nil {
				t.Fatal(err)
			}
			if parsed.Size != int64(tc.size) || parsed.Digest != m.Digest || !slices.Equal(parsed.Parts, m.Parts) {
				t.Errorf("parsed manifest %+v differs from written %+v", parsed, m)
			}
			if err := CheckParts(t.Context(), parsed, s.source); err != nil {
				t.Fatal(err)
			}
			for who, unwrap := range map[string]func() ([]byte, []byte, error){
				"user": func() ([]byte, []byte, error) { return parsed.UserKey(testUser(t).key) },
				"ec2":  func() ([]byte, []byte, error) { return parsed.EC2Key(testEC2(t).key) },
			} {
				key, iv, err := unwrap()
				if err != nil {
					t.Fatalf("%s key: %v", who, err)
				}
				var out bytes.Buffer
				if err := Read(t.Context(), parsed, key, iv, s.source, &out); err != nil {
					t.Fatalf("read with the %s key: %v", who, err)
				}
				if !bytes.Equal(out.Bytes(), image) {
					t.Fatalf("read with the %s key: %d bytes differ from the %d bytes bundled", who, out.Len(), len(image))
				}
			}
		})
	}
}

// TestManifestDocument checks the document against the golden file: the
// element order of the ec2-ami-tools, REXML's quoting, no white space, and
// a signature over <machine_configuration> and <image>.
func TestManifestDocument(t *testing.T) {
	m := &Manifest{
		Name: "image", Account: "123456789012", Arch: "x86_64",
		Digest: strings.Repeat("ab", 20), Size: 1 << 30, BundledSize: 12345678,
		Mappings:  []Mapping{{"ami", "sda1"}, {"root", "/dev/sda1"}},
		KernelID:  "aki-12345678",
		Ancestors: []string{"ami-11111111"},
		Parts:     []PartInfo{{"image.part.0", strings.Repeat("01", 20)}, {"image.part.1", strings.Repeat("02", 20)}},
		ec2Key:    "ec2key", userKey: "userkey", ec2IV: "ec2iv", userIV: "useriv",
	}
	if err := m.sign(testUser(t).key); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/manifest.golden.xml", m.Bytes())

	tags := regexp.MustCompile(`<([a-z0-9_]+)[ >]`).FindAllStringSubmatch(string(m.Bytes()), -1)
	var order []string
	for _, tag := range tags {
		order = append(order, tag[1])
	}
	want := "manifest version bundler name version release machine_configuration architecture block_device_mapping mapping virtual device mapping virtual device kernel_id image name user type ancestry ancestor_ami_id digest size bundled_size ec2_encrypted_key user_encrypted_key ec2_encrypted_iv user_encrypted_iv parts part filename digest part filename digest signature"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("element order\n got %s\nwant %s", got, want)
	}
}

// TestParseManifestRefuses checks that manifests of other versions, or
// with part names that leave the bundle's directory, are refused.
func TestParseManifestRefuses(t *testing.T) {
	doc := writeTestManifest(t)
	for _, tc := range []struct{ name, old, new, want string }{
		{"other version", "<version>2007-10-10</version>", "<version>2007-08-29</version>", `version "2007-08-29" is not supported`},
		{"path in part name", "<filename>image.part.", "<filename>../image.part.", "not a plain file name"},
		{"count", "<parts count='", "<parts count='9", "does not match"},
		{"not xml", "</manifest>", "", "not valid XML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifest(bytes.Replace(doc, []byte(tc.old), []byte(tc.new), 1))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func writeTestManifest(t *testing.T) []byte {
	o := testOptions(t, "image")
	o.PartSize = 4096
	m, err := Write(t.Context(), bytes.NewReader(mixedImage(10_000, 1)), 10_000, o, newStore().put)
	if err != nil {
		t.Fatal(err)
	}
	return m.Bytes()
}

// TestTamperedManifest checks that any change to the signed part of the
// manifest, or a signature by another key, fails Verify.
func TestTamperedManifest(t *testing.T) {
	doc := writeTestManifest(t)
	pub := &testUser(t).key.PublicKey
	m, err := ParseManifest(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(pub); err != nil {
		t.Fatalf("untouched manifest: %v", err)
	}
	size := regexp.MustCompile(`<size>\d+</size>`)
	for name, changed := range map[string][]byte{
		"size":         size.ReplaceAll(doc, []byte("<size>20000</size>")),
		"architecture": bytes.Replace(doc, []byte("<architecture>x86_64<"), []byte("<architecture>i386<"), 1),
		"part digest":  regexp.MustCompile(`(<filename>image.part.0+</filename><digest algorithm='SHA1'>)[0-9a-f]`).ReplaceAll(doc, []byte("${1}z")),
	} {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(changed, doc) {
				t.Fatal("the test changed nothing")
			}
			m, err := ParseManifest(changed)
			if err != nil {
				if name == "part digest" { // not hex any more
					return
				}
				t.Fatal(err)
			}
			if err := m.Verify(pub); err == nil {
				t.Fatal("Verify accepted a changed manifest")
			}
		})
	}
	t.Run("other key", func(t *testing.T) {
		if err := m.Verify(&testEC2(t).key.PublicKey); err == nil {
			t.Fatal("Verify accepted the signature with another key")
		}
	})
}

// TestCorruptedPart checks that a changed or missing part is reported by
// name, by CheckParts and by Read.
func TestCorruptedPart(t *testing.T) {
	image := mixedImage(200_000, 2)
	o := testOptions(t, "image")
	o.PartSize = 16 << 10
	s := newStore()
	m, err := Write(t.Context(), bytes.NewReader(image), int64(len(image)), o, s.put)
	if err != nil {
		t.Fatal(err)
	}
	key, iv, err := m.UserKey(testUser(t).key)
	if err != nil {
		t.Fatal(err)
	}
	bad := m.Parts[2].Name
	good := s.parts[bad]
	for _, tc := range []struct {
		name   string
		change func()
		is     error
	}{
		{"flipped byte", func() { s.parts[bad] = bytes.Clone(good); s.parts[bad][100] ^= 1 }, ErrDigest},
		{"truncated", func() { s.parts[bad] = good[:len(good)-16] }, ErrDigest},
		{"missing", func() { delete(s.parts, bad) }, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			defer func() { s.parts[bad] = good }()
			check := func(what string, err error) {
				var pe *PartError
				if !errors.As(err, &pe) || pe.Part != bad || !errors.Is(err, tc.is) {
					t.Fatalf("%s: got %v, want a PartError naming %s that wraps %v", what, err, bad, tc.is)
				}
				if !strings.HasPrefix(err.Error(), "part "+bad+": ") {
					t.Errorf("%s: message %q does not start with the part", what, err)
				}
			}
			check("CheckParts", CheckParts(t.Context(), m, s.source))
			var out bytes.Buffer
			check("Read", Read(t.Context(), m, key, iv, s.source, &out))
		})
	}
}

// TestWrongKey checks that a bundle cannot be unwrapped with another
// private key, and that decrypting with another AES key fails.
func TestWrongKey(t *testing.T) {
	image := mixedImage(50_000, 3)
	s := newStore()
	m, err := Write(t.Context(), bytes.NewReader(image), int64(len(image)), testOptions(t, "image"), s.put)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.UserKey(testEC2(t).key); err == nil || !strings.Contains(err.Error(), "user_encrypted_key") {
		t.Fatalf("UserKey with another key: %v", err)
	}
	if _, _, err := m.EC2Key(testUser(t).key); err == nil {
		t.Fatal("EC2Key with the user's key succeeded")
	}
	key, iv, err := m.UserKey(testUser(t).key)
	if err != nil {
		t.Fatal(err)
	}
	key[0] ^= 1
	var out bytes.Buffer
	err = Read(t.Context(), m, key, iv, s.source, &out)
	var pe *PartError
	if err == nil || errors.As(err, &pe) {
		t.Fatalf("Read with a wrong AES key: %v", err)
	}
}

// TestPartNamePadding checks part names are padded to the digits of an
// upper bound of the part count, never fewer than the ec2-ami-tools use,
// and sort in part order.
func TestPartNamePadding(t *testing.T) {
	for _, tc := range []struct {
		size     int64
		partSize int64
		digits   int
	}{
		{0, defaultPartSize, 1},
		{80 << 20, defaultPartSize, 1},   // at most 9 parts
		{95 << 20, defaultPartSize, 2},   // could need 10
		{2 << 30, defaultPartSize, 3},    // 2 GiB: up to 206 parts
		{10 << 30, defaultPartSize, 4},   // ec2-bundle-vol's largest: up to 1029 parts
		{900 << 20, defaultPartSize, 2},  // 90.4 parts at most
		{1000 << 20, defaultPartSize, 3}, // 100.5
	} {
		if got := partDigits(tc.size, len("image"), tc.partSize); got != tc.digits {
			t.Errorf("size %d: %d digits, want %d", tc.size, got, tc.digits)
		}
	}

	// Incompressible data: about 12 parts, so two digits, as the
	// ec2-ami-tools would have it too.
	image := make([]byte, 11*4096)
	rand.Read(image)
	o := testOptions(t, "img")
	o.PartSize = 4096
	s := newStore()
	m, err := Write(t.Context(), bytes.NewReader(image), int64(len(image)), o, s.put)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, p := range m.Parts {
		if want := fmt.Sprintf("img.part.%02d", i); p.Name != want {
			t.Errorf("part %d is %s, want %s", i, p.Name, want)
		}
		names = append(names, p.Name)
	}
	if len(names) < 10 || !slices.IsSorted(names) {
		t.Errorf("%d parts %v: want 10 or more, in sorted order", len(names), names)
	}
}

// TestStreaming checks parts reach put while the image is still being
// read, at most Uploads at once, and that Progress sees every part.
func TestStreaming(t *testing.T) {
	image := mixedImage(24<<20, 5)
	o := testOptions(t, "image")
	o.PartSize = 64 << 10
	o.Uploads = 3
	o.Workers = 2
	var read atomic.Int64
	var inFlight, most atomic.Int32
	var firstPutAt int64 = -1
	var mu sync.Mutex
	var seen []Progress
	o.Progress = func(p Progress) { seen = append(seen, p) } // serialised by Write
	m, err := Write(t.Context(), &countingReader{r: bytes.NewReader(image), n: &read}, int64(len(image)), o, func(_ context.Context, p Part) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		mu.Lock()
		if firstPutAt < 0 {
			firstPutAt = read.Load()
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The compressor buffers a few 1 MiB blocks per worker, no more.
	if firstPutAt >= int64(len(image))/2 {
		t.Errorf("the first part was put after %d bytes of %d were read", firstPutAt, len(image))
	}
	if most.Load() > int32(o.Uploads) {
		t.Errorf("%d puts ran at once, Uploads is %d", most.Load(), o.Uploads)
	}
	if len(seen) != len(m.Parts) {
		t.Fatalf("Progress called %d times for %d parts", len(seen), len(m.Parts))
	}
	last := seen[len(seen)-1]
	if last.Parts != len(m.Parts) || last.BundledBytes != m.BundledSize || last.ImageBytes != int64(len(image)) || last.ImageSize != int64(len(image)) {
		t.Errorf("last progress %+v; manifest has %d parts, %d bytes", last, len(m.Parts), m.BundledSize)
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCancel checks that cancelling the context, or a put failing, stops
// Write promptly and leaves no goroutine behind.
func TestCancel(t *testing.T) {
	image := mixedImage(8<<20, 6)
	for _, tc := range []struct {
		name string
		put  func(ctx context.Context, cancel context.CancelFunc, p Part) error
		is   error
	}{
		{"context", func(ctx context.Context, cancel context.CancelFunc, p Part) error {
			if p.Index == 2 {
				cancel()
			}
			<-ctx.Done()
			return ctx.Err()
		}, context.Canceled},
		{"put fails", func(ctx context.Context, cancel context.CancelFunc, p Part) error {
			if p.Index == 1 {
				return errTestPut
			}
			return nil
		}, errTestPut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := goroutines()
			o := testOptions(t, "image")
			o.PartSize = 64 << 10
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var stopped atomic.Int64 // when put cancelled or failed
			_, err := Write(ctx, bytes.NewReader(image), int64(len(image)), o, func(ctx context.Context, p Part) error {
				err := tc.put(ctx, func() { stopped.CompareAndSwap(0, time.Now().UnixNano()); cancel() }, p)
				if err != nil {
					stopped.CompareAndSwap(0, time.Now().UnixNano())
				}
				return err
			})
			if !errors.Is(err, tc.is) {
				t.Fatalf("got %v, want %v", err, tc.is)
			}
			if took := time.Since(time.Unix(0, stopped.Load())); took > 2*time.Second {
				t.Errorf("Write returned %s after the failure", took)
			}
			if tc.is == errTestPut && !strings.Contains(err.Error(), "image.part.") {
				t.Errorf("error %q does not name the part", err)
			}
			waitGoroutines(t, before)
		})
	}
}

var errTestPut = errors.New("test put failure")

// TestEC2Certificate checks the embedded certificates parse and hold RSA
// keys, and that other partitions are told to set ec2_cert_path.
func TestEC2Certificate(t *testing.T) {
	for _, p := range []string{"aws", "aws-us-gov", "aws-cn"} {
		c, err := EC2Certificate(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := rsaPublic("EC2", c); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := EC2Certificate("aws-iso"); err == nil || !strings.Contains(err.Error(), "ec2_cert_path") {
		t.Fatalf("aws-iso: %v, want an error saying to set ec2_cert_path", err)
	}
	a, _ := EC2Certificate("aws")
	g, _ := EC2Certificate("aws-us-gov")
	if a.Equal(g) {
		t.Error("the commercial and GovCloud certificates are the same")
	}
}

// TestLoadUserKeys checks matching files load and every kind of bad file
// gets an error naming it, without quoting it.
func TestLoadUserKeys(t *testing.T) {
	dir := t.TempDir()
	other := newKeyPair(t, "other")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certPEM, _ := os.ReadFile("testdata/user-cert.pem")
	keyPEM, _ := os.ReadFile("testdata/user-key.pem")
	pkcs8 := write("pkcs8.pem", pkcs8PEM(t, testUser(t).key))
	otherKey := write("other.pem", pkcs8PEM(t, other.key))
	ecKey := write("ec.pem", ecKeyPEM(t))
	notPEM := write("garbage.pem", []byte("not a key at all"))
	cert := write("cert.pem", certPEM)
	pkcs1 := write("pkcs1.pem", keyPEM)

	for _, ok := range []string{pkcs1, pkcs8} {
		c, k, err := LoadUserKeys(cert, ok)
		if err != nil || c == nil || k == nil {
			t.Fatalf("%s: %v", ok, err)
		}
	}
	for _, tc := range []struct{ name, cert, key, want string }{
		{"mismatched", cert, otherKey, "does not match"},
		{"not RSA", cert, ecKey, "not RSA"},
		{"key not PEM", cert, notPEM, "no PEM"},
		{"cert not PEM", notPEM, pkcs1, "no PEM CERTIFICATE"},
		{"unreadable", filepath.Join(dir, "absent.pem"), pkcs1, "absent.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadUserKeys(tc.cert, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if named := strings.Contains(err.Error(), tc.key) || strings.Contains(err.Error(), tc.cert); !named {
				t.Errorf("error %q names neither file", err)
			}
			if strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error %q quotes a file", err)
			}
		})
	}
}

// TestImageReadError checks that an image that fails, or ends before its
// size, fails Write, names the cause and leaves no goroutine behind.
func TestImageReadError(t *testing.T) {
	image := mixedImage(6<<20, 10)
	errDisk := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		r    io.Reader
		want string
	}{
		{"read error", io.MultiReader(bytes.NewReader(image[:5<<20]), iotest.ErrReader(errDisk)), "disk on fire"},
		{"short image", bytes.NewReader(image[:5<<20]), "ended after 5242880 of 6291456 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := goroutines()
			o := testOptions(t, "image")
			o.PartSize = 64 << 10
			_, err := Write(t.Context(), tc.r, int64(len(image)), o, newStore().put)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			waitGoroutines(t, before)
		})
	}
}

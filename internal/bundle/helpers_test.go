package bundle

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyPair is an RSA key and a self-signed certificate of it.
type keyPair struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

// testUser is the fixed key pair of testdata/user-*.pem.
func testUser(t testing.TB) keyPair {
	t.Helper()
	c, k, err := LoadUserKeys("testdata/user-cert.pem", "testdata/user-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{c, k}
}

var (
	ec2Once sync.Once
	ec2Pair keyPair
)

// testEC2 is a key pair made once per test binary, standing for EC2's.
func testEC2(t testing.TB) keyPair {
	t.Helper()
	ec2Once.Do(func() { ec2Pair = newKeyPair(t, "test EC2") })
	return ec2Pair
}

func newKeyPair(t testing.TB, cn string) keyPair {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{c, k}
}

func testOptions(t testing.TB, name string) Options {
	u, e := testUser(t), testEC2(t)
	return Options{Name: name, Account: "123456789012", UserCert: u.cert, UserKey: u.key, EC2Cert: e.cert}
}

// store keeps parts in memory, as put and as a PartSource.
type store struct {
	mu    sync.Mutex
	parts map[string][]byte
}

func newStore() *store { return &store{parts: map[string][]byte{}} }

func (s *store) put(_ context.Context, p Part) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.parts[p.Name] = bytes.Clone(p.Data)
	return nil
}

func (s *store) source(_ context.Context, name string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.parts[name]
	if !ok {
		return nil, fmt.Errorf("open %s: %w", name, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// mixedImage returns size bytes that look like a file system: runs of
// zeros (free space), of text (logs, configuration) and of random bytes
// (compressed files), in blocks of 4 KiB.
func mixedImage(size int, seed uint64) []byte {
	r := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := strings.Fields("the of and to in is for on that with kernel module config user root service unit log error warning info debug mount file system device block inode path usr lib bin etc var")
	b := make([]byte, 0, size+4096)
	for len(b) < size {
		n := 4096 * (1 + r.IntN(16))
		switch r.IntN(3) {
		case 0:
			b = append(b, make([]byte, n)...)
		case 1:
			for end := len(b) + n; len(b) < end; {
				b = append(b, words[r.IntN(len(words))]...)
				b = append(b, " \n"[r.IntN(8)/7])
			}
		default:
			chunk := make([]byte, n)
			for i := range chunk {
				chunk[i] = byte(r.Uint32())
			}
			b = append(b, chunk...)
		}
	}
	return b[:size]
}

// writeBundle bundles image into dir (parts and manifest as files).
func writeBundle(t testing.TB, dir string, image []byte, o Options) *Manifest {
	t.Helper()
	m, err := Write(context.Background(), bytes.NewReader(image), int64(len(image)), o, func(_ context.Context, p Part) error {
		return os.WriteFile(filepath.Join(dir, p.Name), p.Data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, o.Name+".manifest.xml"), m.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return m
}

// dirSource reads parts from dir.
func dirSource(dir string) PartSource {
	return func(_ context.Context, name string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(dir, name))
	}
}

// requireTools skips the test when a program is missing, or fails it when
// IMGBUILD_TEST_REQUIRE names "openssl" or "all" (the testenv convention);
// under -short it always skips: the fast subset runs no external program.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipping in -short mode: needs %s", strings.Join(names, ", "))
	}
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			req := os.Getenv("IMGBUILD_TEST_REQUIRE")
			for _, f := range strings.Split(req, ",") {
				if f = strings.TrimSpace(f); f == "openssl" || f == "all" {
					t.Fatalf("%s not found on PATH (required by IMGBUILD_TEST_REQUIRE=%s); install openssl, gzip and tar", n, req)
				}
			}
			t.Skipf("skipping: %s not found on PATH (set IMGBUILD_TEST_REQUIRE=openssl to make this a failure)", n)
		}
	}
}

// run runs a shell command line in dir and returns its standard output.
func run(t *testing.T, dir, script string) []byte {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	return out
}

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with the file at path (rewritten under -update).
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n got %s\nwant %s", path, got, want)
	}
}

func goroutines() int { return runtime.NumGoroutine() }

// waitGoroutines fails unless the goroutine count falls back to before
// within a few seconds.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left running, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pkcs8PEM(t *testing.T, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func ecKeyPEM(t *testing.T) []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pkcs8PEM(t, k)
}

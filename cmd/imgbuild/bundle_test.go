package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/imgbuild/imgbuild/internal/bundle"
	"github.com/imgbuild/imgbuild/internal/testenv"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// testBundle is a bundle written to dir: image.manifest.xml and its parts,
// made for the key in key.pem (PKCS#8) and EC2's commercial certificate.
type testBundle struct {
	dir, keyPath string
	keyPEM       []byte
	image        []byte
	m            *bundle.Manifest
}

func newTestBundle(t *testing.T) *testBundle {
	t.Helper()
	dir := t.TempDir()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bundle test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ec2, err := bundle.EC2Certificate("aws")
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	b := &testBundle{dir: dir, keyPath: filepath.Join(dir, "key.pem"),
		keyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}
	if err := os.WriteFile(b.keyPath, b.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// Half text, half random: it compresses, but not to nothing.
	r := mrand.New(mrand.NewPCG(1, 2))
	b.image = make([]byte, 300_000)
	for i := range b.image {
		if i%8192 < 4096 {
			b.image[i] = "imgbuild bundle test\n"[i%21]
		} else {
			b.image[i] = byte(r.Uint32())
		}
	}
	o := bundle.Options{Name: "image", Account: "123456789012", UserCert: cert, UserKey: k, EC2Cert: ec2, PartSize: 64 << 10}
	b.m, err = bundle.Write(t.Context(), bytes.NewReader(b.image), int64(len(b.image)), o, func(_ context.Context, p bundle.Part) error {
		return os.WriteFile(filepath.Join(dir, p.Name), p.Data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.manifestPath(), b.m.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *testBundle) manifestPath() string { return filepath.Join(b.dir, "image.manifest.xml") }

// runBundleCLI runs "imgbuild bundle args..." in-process.
func runBundleCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, ui: ui.New(&out, &errOut), getenv: func(string) string { return "" }}
	code = dispatch(t.Context(), e, append([]string{"bundle"}, args...))
	return code, out.String(), errOut.String()
}

// TestBundleVerify checks verify reports each check on a good bundle and
// names the part, or the check, that fails on a bad one.
func TestBundleVerify(t *testing.T) {
	b := newTestBundle(t)
	part1 := b.m.Parts[1].Name
	good, _ := os.ReadFile(filepath.Join(b.dir, part1))
	other := newTestBundle(t) // another key pair

	for _, tc := range []struct {
		name   string
		change func(t *testing.T)
		args   func() []string
		code   int
		want   []string // in stdout+stderr
	}{
		{name: "ok", code: 0, want: []string{
			fmt.Sprintf(`Manifest %s: image "image" of account 123456789012, x86_64, %d parts, %d bytes bundled`, b.manifestPath(), len(b.m.Parts), b.m.BundledSize),
			"Signature: verified with the public key of " + b.keyPath,
			fmt.Sprintf("Parts: %d of %d present, %d bytes, every SHA-1 matches the manifest", len(b.m.Parts), len(b.m.Parts), b.m.BundledSize),
			"Image: \"image\", 300000 bytes, SHA-1 of the tar stream " + b.m.Digest + " matches the manifest",
			"Bundle OK.",
		}},
		{name: "flags first", args: func() []string { return []string{"verify", "--key", b.keyPath, b.manifestPath()} }, code: 0, want: []string{"Bundle OK."}},
		{name: "corrupted part", code: 1, change: func(t *testing.T) {
			bad := bytes.Clone(good)
			bad[10] ^= 0xff
			writeFile(t, filepath.Join(b.dir, part1), bad)
		}, want: []string{"imgbuild: error: part " + part1 + ": digest differs from the manifest's", "hint: the bundle is incomplete or damaged: upload part " + part1}},
		{name: "missing part", code: 1, change: func(t *testing.T) {
			os.Remove(filepath.Join(b.dir, part1))
		}, want: []string{"imgbuild: error: part " + part1 + ": open ", "no such file"}},
		{name: "tampered manifest", code: 1, change: func(t *testing.T) {
			writeFile(t, b.manifestPath(), bytes.Replace(b.m.Bytes(), []byte("<size>300000<"), []byte("<size>300001<"), 1))
		}, want: []string{"signature does not verify"}},
		{name: "other key", args: func() []string { return []string{"verify", b.manifestPath(), "--key", other.keyPath} }, code: 1, want: []string{"signature does not verify"}},
		{name: "no key", args: func() []string { return []string{"verify", b.manifestPath()} }, code: 2, want: []string{"--key is required"}},
		{name: "no manifest", args: func() []string { return []string{"verify", "--key", b.keyPath} }, code: 2, want: []string{"expected one manifest"}},
		{name: "unknown subcommand", args: func() []string { return []string{"check", b.manifestPath()} }, code: 2, want: []string{`unknown bundle subcommand "check"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.change != nil {
				tc.change(t)
				defer writeFile(t, filepath.Join(b.dir, part1), good)
				defer writeFile(t, b.manifestPath(), b.m.Bytes())
			}
			args := []string{"verify", b.manifestPath(), "--key", b.keyPath}
			if tc.args != nil {
				args = tc.args()
			}
			code, out, errOut := runBundleCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
			assertNoKey(t, out+errOut, b.keyPEM)
		})
	}
}

// TestBundleUnpack checks unpack writes the image, and writes nothing when
// a check fails.
func TestBundleUnpack(t *testing.T) {
	b := newTestBundle(t)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "root.img")
	code, stdout, stderr := runBundleCLI(t, "unpack", "--key", b.keyPath, "-o", out, b.manifestPath())
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, b.image) {
		t.Fatalf("unpacked %d bytes (%v), want the %d-byte image", len(got), err, len(b.image))
	}
	if !strings.Contains(stdout, "Wrote the image to "+out) {
		t.Errorf("stdout: %s", stdout)
	}
	assertNoKey(t, stdout+stderr, b.keyPEM)

	last := filepath.Join(b.dir, b.m.Parts[len(b.m.Parts)-1].Name)
	data, _ := os.ReadFile(last)
	writeFile(t, last, data[:len(data)-1])
	bad := filepath.Join(outDir, "bad.img")
	code, stdout, stderr = runBundleCLI(t, "unpack", b.manifestPath(), "--key", b.keyPath, "-o", bad)
	if code != 1 || !strings.Contains(stderr, "part "+filepath.Base(last)+": ") {
		t.Fatalf("exit %d, want 1 naming %s\n%s%s", code, filepath.Base(last), stdout, stderr)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 1 {
		t.Errorf("after a failed unpack %s holds %d files, want only root.img", outDir, len(entries))
	}
	if code, _, stderr := runBundleCLI(t, "unpack", b.manifestPath(), "--key", b.keyPath); code != 2 || !strings.Contains(stderr, "-o is required") {
		t.Errorf("unpack without -o: exit %d, %s", code, stderr)
	}
}

// TestBundleVerifyS3 reads the manifest and parts from S3 (moto), with
// AWS_ENDPOINT_URL, and names a part missing there.
func TestBundleVerifyS3(t *testing.T) {
	url := testenv.PlainMoto(t)
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
		"AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"} {
		t.Setenv(k, v)
	}
	b := newTestBundle(t)
	c := s3.NewFromConfig(testenv.AWSConfig(url, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bundles")}); err != nil {
		t.Fatal(err)
	}
	names := []string{"image.manifest.xml"}
	for _, p := range b.m.Parts {
		names = append(names, p.Name)
	}
	for _, n := range names {
		data, _ := os.ReadFile(filepath.Join(b.dir, n))
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bundles"), Key: aws.String("builds/1/" + n), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
	}
	manifest := "s3://bundles/builds/1/image.manifest.xml"
	if code, out, errOut := runBundleCLI(t, "verify", manifest, "--key", b.keyPath); code != 0 || !strings.Contains(out, "Bundle OK.") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	gone := b.m.Parts[2].Name
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bundles"), Key: aws.String("builds/1/" + gone)}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runBundleCLI(t, "verify", manifest, "--key", b.keyPath)
	if code != 1 || !strings.Contains(errOut, "part "+gone+": s3://bundles/builds/1/"+gone+": file does not exist") {
		t.Fatalf("exit %d, want 1 naming the missing part %s\n%s%s", code, gone, out, errOut)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertNoKey fails if output holds any line of the key's PEM body.
func assertNoKey(t *testing.T, output string, keyPEM []byte) {
	t.Helper()
	for _, line := range strings.Split(string(keyPEM), "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(output, line) {
			t.Fatalf("output quotes the private key")
		}
	}
}

// TestBundleHelp checks bundle lists its subcommands.
func TestBundleHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"--help"}, 0}, {nil, 2}} {
		code, out, errOut := runBundleCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, "verify ") || !strings.Contains(errOut, "unpack ") {
			t.Errorf("bundle %v: exit %d (want %d)\n%s%s", tc.args, code, tc.code, out, errOut)
		}
	}
}

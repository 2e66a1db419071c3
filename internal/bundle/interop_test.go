package bundle

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestClassicToolsUnbundle unbundles with the classic tools, as
// ec2-unbundle does: cat the parts in name order, openssl enc -d, gunzip,
// tar -x; and checks the part digests with sha1sum and the tar stream's
// with sha1sum.
func TestClassicToolsUnbundle(t *testing.T) {
	requireTools(t, "openssl", "gzip", "tar", "sha1sum")
	dir := t.TempDir()
	image := mixedImage(3<<20+123, 7)
	o := testOptions(t, "root.img")
	o.PartSize = 256 << 10
	m := writeBundle(t, dir, image, o)
	key, iv, err := m.UserKey(testUser(t).key)
	if err != nil {
		t.Fatal(err)
	}
	decrypt := fmt.Sprintf("cat root.img.part.* | openssl enc -d -aes-128-cbc -K %x -iv %x", key, iv)

	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, dir, decrypt+" | gunzip | tar -x -C out")
	got, err := os.ReadFile(filepath.Join(dir, "out", "root.img"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, image) {
		t.Fatalf("tar -x gave %d bytes that differ from the %d bundled", len(got), len(image))
	}

	if sum := strings.Fields(string(run(t, dir, decrypt+" | gunzip | sha1sum")))[0]; sum != m.Digest {
		t.Errorf("sha1sum of the tar stream %s, manifest digest %s", sum, m.Digest)
	}
	listing := string(run(t, dir, decrypt+" | gunzip | tar -tv --numeric-owner"))
	if lines := strings.Split(strings.TrimSpace(listing), "\n"); len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "-rw-r--r-- 0/0") || !strings.Contains(lines[0], fmt.Sprintf(" %d ", len(image))) || !strings.HasSuffix(lines[0], " root.img") {
		t.Errorf("tar -tv: %q, want one member root.img, mode 0644, owner 0/0, %d bytes", listing, len(image))
	}

	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(run(t, dir, "sha1sum root.img.part.*"))), "\n") {
		f := strings.Fields(line)
		sums[f[1]] = f[0]
	}
	if len(sums) != len(m.Parts) {
		t.Errorf("%d part files, manifest lists %d", len(sums), len(m.Parts))
	}
	for _, p := range m.Parts {
		if sums[p.Name] != p.SHA1 {
			t.Errorf("part %s: sha1sum %s, manifest %s", p.Name, sums[p.Name], p.SHA1)
		}
	}
}

// TestClassicToolsVerifyManifest checks the manifest with openssl alone:
// the signature over the <machine_configuration> and <image> substrings
// (cut out with sed) verifies with the certificate's key, and the wrapped
// key decrypts with the user's private key to the hex key openssl enc
// takes.
func TestClassicToolsVerifyManifest(t *testing.T) {
	requireTools(t, "openssl", "sed")
	dir := t.TempDir()
	o := testOptions(t, "image")
	o.KernelID = "aki-12345678"
	o.Ancestors = []string{"ami-12345678", "ami-87654321"}
	m := writeBundle(t, dir, mixedImage(100_000, 8), o)
	for name, v := range map[string]string{"sig.bin": sigHex(t, m.Bytes()), "ukey.bin": elementText(t, m.Bytes(), "user_encrypted_key")} {
		b, err := hex.DecodeString(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	certs, _ := filepath.Abs("testdata")
	run(t, dir, "openssl x509 -pubkey -noout -in "+certs+"/user-cert.pem > pub.pem")
	run(t, dir, `sed -e 's|.*\(<machine_configuration>.*</machine_configuration>\).*|\1|' image.manifest.xml | tr -d '\n' > signed`)
	run(t, dir, `sed -e 's|.*\(<image>.*</image>\).*|\1|' image.manifest.xml | tr -d '\n' >> signed`)
	if out := run(t, dir, "openssl dgst -sha1 -verify pub.pem -signature sig.bin signed"); !bytes.Contains(out, []byte("Verified OK")) {
		t.Fatalf("openssl dgst: %s", out)
	}
	run(t, dir, `sed -i -e 's|<size>|<size>1|' image.manifest.xml`)
	run(t, dir, `sed -e 's|.*\(<machine_configuration>.*</machine_configuration>\).*|\1|' image.manifest.xml | tr -d '\n' > signed`)
	run(t, dir, `sed -e 's|.*\(<image>.*</image>\).*|\1|' image.manifest.xml | tr -d '\n' >> signed`)
	if out := run(t, dir, "openssl dgst -sha1 -verify pub.pem -signature sig.bin signed || true"); bytes.Contains(out, []byte("Verified OK")) {
		t.Fatal("openssl verified a changed manifest")
	}

	key, _, err := m.UserKey(testUser(t).key)
	if err != nil {
		t.Fatal(err)
	}
	got := string(run(t, dir, "openssl pkeyutl -decrypt -inkey "+certs+"/user-key.pem -in ukey.bin"))
	if got != hex.EncodeToString(key) {
		t.Errorf("openssl unwraps the key to %q, want the lowercase hex %x", got, key)
	}
}

func sigHex(t *testing.T, doc []byte) string { return elementText(t, doc, "signature") }

func elementText(t *testing.T, doc []byte, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<` + name + `[^>]*>([0-9a-f]*)</` + name + `>`).FindSubmatch(doc)
	if m == nil {
		t.Fatalf("no <%s> in %s", name, doc)
	}
	return string(m[1])
}

// TestReadClassicBundle reads a bundle made as ec2-bundle-image makes it:
// GNU tar --sparse of a sparse image, gzip -9, openssl enc, split.
func TestReadClassicBundle(t *testing.T) {
	requireTools(t, "openssl", "gzip", "tar", "split", "truncate")
	dir := t.TempDir()
	// A sparse image: data, a hole, data, a hole at the end.
	data := mixedImage(300_000, 9)
	f, err := os.Create(filepath.Join(dir, "image"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data[:100_000])
	f.WriteAt(data[100_000:], 1<<20)
	f.Truncate(3 << 20)
	f.Close()
	image, err := os.ReadFile(filepath.Join(dir, "image"))
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{0x5a}, 16)
	iv := bytes.Repeat([]byte{0xa5}, 16)
	run(t, dir, fmt.Sprintf("tar -c --sparse --owner 0 --group 0 image | tee tar.stream | gzip -9 | openssl enc -e -aes-128-cbc -K %x -iv %x > image.tar.gz.enc", key, iv))
	run(t, dir, "split -d -a 2 -b 65536 image.tar.gz.enc image.part.")
	if typ := run(t, dir, "dd if=tar.stream bs=1 skip=156 count=1 2>/dev/null"); string(typ) != "S" {
		t.Logf("tar wrote member type %q, not a GNU sparse member", typ)
	}

	stream, _ := os.ReadFile(filepath.Join(dir, "tar.stream"))
	enc, _ := os.ReadFile(filepath.Join(dir, "image.tar.gz.enc"))
	names, _ := filepath.Glob(filepath.Join(dir, "image.part.*"))
	sort.Strings(names)
	u, e := testUser(t), testEC2(t)
	m := &Manifest{Name: "image", Account: "123456789012", Arch: "x86_64", Size: int64(len(image)), BundledSize: int64(len(enc))}
	streamSum := sha1.Sum(stream)
	m.Digest = hex.EncodeToString(streamSum[:])
	for _, n := range names {
		b, _ := os.ReadFile(n)
		sum := sha1.Sum(b)
		m.Parts = append(m.Parts, PartInfo{Name: filepath.Base(n), SHA1: hex.EncodeToString(sum[:])})
	}
	if err := m.wrapKeys(Options{UserCert: u.cert, EC2Cert: e.cert}, key, iv); err != nil {
		t.Fatal(err)
	}
	if err := m.sign(u.key); err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseManifest(m.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	k, v, err := parsed.UserKey(u.key)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Read(t.Context(), parsed, k, v, dirSource(dir), &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), image) {
		t.Fatalf("read %d bytes that differ from the %d-byte image", out.Len(), len(image))
	}
}

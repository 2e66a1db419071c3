package steps

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/builder"
)

// TestDecryptPassword decrypts password data as EC2 makes it: the
// password encrypted with the key pair's RSA public key (PKCS #1 v1.5),
// base64.
func TestDecryptPassword(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 the format EC2 uses for Windows passwords.
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &key.PublicKey, []byte("Tz9(k=Q!x"))
	if err != nil {
		t.Fatal(err)
	}
	data := base64.StdEncoding.EncodeToString(ct)
	if pw, err := decryptPassword(key, data); err != nil || pw != "Tz9(k=Q!x" {
		t.Errorf("decryptPassword = %q, %v", pw, err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decryptPassword(other, data); err == nil || !strings.Contains(err.Error(), "does not decrypt with this key pair") {
		t.Errorf("another key: %v", err)
	}
	if _, err := decryptPassword(key, "%%%"); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("not base64: %v", err)
	}
}

// TestPasswordNeedsRSA: an ed25519 key cannot decrypt a Windows password,
// and the error says what to use instead.
func TestPasswordNeedsRSA(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b := &build{cfg: &Config{}}
	b.st.privateKey = key
	if _, err := (&getPassword{b: b}).key(); err == nil || !strings.Contains(err.Error(), "RSA") {
		t.Errorf("key() with ed25519 = %v", err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b.st.privateKey = rk
	if got, err := (&getPassword{b: b}).key(); err != nil || got != rk {
		t.Errorf("key() with RSA = %v, %v", got, err)
	}
}

// TestPasswordKeyFromFile: with ssh_keypair_name, the password is
// decrypted with ssh_private_key_file (relative to the template).
func TestPasswordKeyFromFile(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	if err := os.WriteFile(filepath.Join(dir, "win.pem"), pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{}
	cfg.SSHKeyPairName, cfg.SSHPrivateKeyFile = "win", "win.pem"
	b := &build{cfg: cfg, env: &builder.Env{BaseDir: dir}}
	got, err := (&getPassword{b: b}).key()
	if err != nil || !got.Equal(rk) {
		t.Errorf("key() from ssh_private_key_file = %v, %v", got, err)
	}
}

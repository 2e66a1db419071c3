package steps

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
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

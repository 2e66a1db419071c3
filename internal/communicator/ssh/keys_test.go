package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func TestParsePrivateKey(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	openssh, err := gossh.MarshalPrivateKey(edKey, "")
	if err != nil {
		t.Fatal(err)
	}
	encrypted, err := gossh.MarshalPrivateKeyWithPassphrase(edKey, "", []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}
	tests := []struct {
		name     string
		pem      []byte
		wantType string
		wantErr  error
	}{
		{"ed25519 openssh", pem.EncodeToMemory(openssh), gossh.KeyAlgoED25519, nil},
		{"rsa pkcs1", pem.EncodeToMemory(pkcs1), gossh.KeyAlgoRSA, nil},
		{"passphrase protected", pem.EncodeToMemory(encrypted), "", ErrPassphraseProtected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer, err := ParsePrivateKey(tt.pem)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if got := signer.PublicKey().Type(); got != tt.wantType {
				t.Errorf("key type = %s, want %s", got, tt.wantType)
			}
		})
	}
}

func TestSignerFromFileErrorsNameTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id_broken")
	writeFile(t, path, "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n", 0o600)
	_, err := SignerFromFile(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error = %v, want it to name %s", err, path)
	}
	if strings.Contains(err.Error(), "not a key") {
		t.Errorf("error %q quotes the key file", err)
	}
	if _, err := SignerFromFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}

func TestCertSignerAuthenticates(t *testing.T) {
	ca, user := newSigner(t), newSigner(t)
	cert := &gossh.Certificate{
		Key: user.PublicKey(), CertType: gossh.UserCert, KeyId: "build",
		ValidPrincipals: []string{"tester"}, ValidBefore: uint64(time.Now().Add(time.Hour).Unix()),
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	signer, err := CertSigner(user, gossh.MarshalAuthorizedKey(cert))
	if err != nil {
		t.Fatalf("CertSigner: %v", err)
	}
	// The server trusts only the CA, so only the certificate can log in.
	s := startServer(t, serverOpts{userCA: ca.PublicKey()})
	c, err := Connect(context.Background(), s.clientOpts(signer))
	if err != nil {
		t.Fatalf("Connect with certificate: %v", err)
	}
	defer c.Close()
	opts := s.clientOpts(user)
	opts.HandshakeAttempts = 1
	if _, err := Connect(context.Background(), opts); err == nil {
		t.Error("the bare key was accepted; the test does not prove the certificate is used")
	}
	if _, err := CertSigner(user, gossh.MarshalAuthorizedKey(user.PublicKey())); err == nil {
		t.Error("CertSigner accepted a plain public key")
	}
}

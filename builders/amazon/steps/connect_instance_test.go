package steps

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/builder"
)

// TestPrivateKeyFileIsASecret: the contents of ssh_private_key_file are
// handed to the masker before the key is used, so a provisioner that
// prints the key shows it masked.
func TestPrivateKeyFileIsASecret(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPEM := pem.EncodeToMemory(block)
	if err := os.WriteFile(filepath.Join(dir, "id"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var secrets []string
	env := &builder.Env{BaseDir: dir, AddSecret: func(s string) { secrets = append(secrets, s) }}
	cfg := &Config{}
	cfg.SSHPrivateKeyFile = "id"
	n := &connectInstance{b: newBuild(env, cfg, nil)}
	signers, err := n.signers()
	if err != nil || len(signers) != 1 {
		t.Fatalf("signers: %v, %d", err, len(signers))
	}
	if len(secrets) != 1 || secrets[0] != string(keyPEM) {
		t.Errorf("secrets added: %q, want the key file's contents", secrets)
	}
}

package amazon

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/check"
)

// writeKeys writes, into dir, an unencrypted key (key), a key protected by
// a passphrase (locked), a public key given as a private key (pub), the
// certificate of key (key-cert.pub) and that of another key
// (other-cert.pub).
func writeKeys(t *testing.T, dir string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	locked, err := gossh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshOther, err := gossh.NewPublicKey(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"key":            pem.EncodeToMemory(block),
		"locked":         pem.EncodeToMemory(locked),
		"pub":            gossh.MarshalAuthorizedKey(sshPub),
		"key-cert.pub":   certFor(t, sshPub),
		"other-cert.pub": certFor(t, sshOther),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// certFor returns a user certificate of pub, signed by a new CA, in
// authorized-keys format.
func certFor(t *testing.T, pub gossh.PublicKey) []byte {
	t.Helper()
	_, caKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := gossh.NewSignerFromKey(caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert := &gossh.Certificate{Key: pub, CertType: gossh.UserCert, ValidPrincipals: []string{"ubuntu"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return gossh.MarshalAuthorizedKey(cert)
}

// TestSourceConfigKeyFiles checks that validate parses the key files the
// connect step reads, instead of leaving a broken key to fail the build
// once the instance runs.
func TestSourceConfigKeyFiles(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir)
	tests := []struct {
		name    string
		edit    func(*SourceConfig)
		unknown string
		want    string // summary substring; "" means valid
	}{
		{"key", func(c *SourceConfig) { c.SSHPrivateKeyFile = "key" }, "", ""},
		{"key with its certificate", func(c *SourceConfig) {
			c.SSHPrivateKeyFile, c.SSHCertificateFile = "key", "key-cert.pub"
		}, "", ""},
		{"passphrase", func(c *SourceConfig) { c.SSHPrivateKeyFile = "locked" }, "", "Unusable ssh_private_key_file"},
		{"public key", func(c *SourceConfig) { c.SSHPrivateKeyFile = "pub" }, "", "Unusable ssh_private_key_file"},
		{"missing key reported once", func(c *SourceConfig) { c.SSHPrivateKeyFile = "nope" }, "", "File not found"},
		{"unknown key", func(c *SourceConfig) { c.SSHPrivateKeyFile = "pub" }, "ssh_private_key_file", ""},
		{"certificate of another key", func(c *SourceConfig) {
			c.SSHPrivateKeyFile, c.SSHCertificateFile = "key", "other-cert.pub"
		}, "", "Unusable ssh_certificate_file"},
		{"public key as certificate", func(c *SourceConfig) {
			c.SSHPrivateKeyFile, c.SSHCertificateFile = "key", "pub"
		}, "", "Unusable ssh_certificate_file"},
		{"bastion key", func(c *SourceConfig) {
			c.SSHBastionHost, c.SSHBastionPrivateKeyFile = "bastion.example.com", "key"
		}, "", ""},
		{"bastion passphrase", func(c *SourceConfig) {
			c.SSHBastionHost, c.SSHBastionPrivateKeyFile = "bastion.example.com", "locked"
		}, "", "Unusable ssh_bastion_private_key_file"},
		{"bastion certificate of another key", func(c *SourceConfig) {
			c.SSHBastionHost, c.SSHBastionPrivateKeyFile, c.SSHBastionCertificateFile = "bastion.example.com", "key", "other-cert.pub"
		}, "", "Unusable ssh_bastion_certificate_file"},
		{"winrm does not read the ssh key", func(c *SourceConfig) {
			c.Type, c.WinRMUsername, c.SSHPrivateKeyFile = "winrm", "Administrator", "pub"
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := prepareEdited(t, dir, tt.edit, tt.unknown, tt.want)
			if tt.want != "" && strings.Contains(ctx.Diags[0].Detail, "PRIVATE KEY") {
				t.Errorf("the diagnostic shows key material: %s", ctx.Diags[0].Detail)
			}
		})
	}
}

// TestSharedCredentialsFile checks that a shared_credentials_file that
// does not exist is warned about: the SDK would skip it silently.
func TestSharedCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "creds"), []byte("[default]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, unknown string
		warn                bool
	}{
		{"exists", "creds", "", false},
		{"missing", "nope", "", true},
		{"unknown", "nope", "shared_credentials_file", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			c.SharedCredentialsFile = tt.file
			ctx := &check.Context{BaseDir: dir, Unknown: map[string]bool{tt.unknown: true}}
			c.Prepare(ctx)
			if ctx.HasErrors() {
				t.Fatalf("errors: %v", ctx.Diags)
			}
			warned := len(ctx.Diags) == 1 && ctx.Diags[0].Summary == "Credentials file not found"
			if warned != tt.warn || (!tt.warn && len(ctx.Diags) != 0) {
				t.Errorf("diagnostics = %v, want a warning: %v", ctx.Diags, tt.warn)
			}
		})
	}
}

// TestCustomEndpointEC2 checks that an endpoint the SDK cannot send to is
// refused at validate, not at the build's first EC2 call; a bare host
// name means https, as in Packer.
func TestCustomEndpointEC2(t *testing.T) {
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"https://ec2.us-east-1.amazonaws.com", true},
		{"http://127.0.0.1:5000", true},
		{"ec2.us-east-1.amazonaws.com", true},
		{"127.0.0.1:5000", true},
		{"ec2 .example.com", false},
		{"ftp://ec2.example.com", false},
		{"https://", false},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			c := valid()
			c.CustomEndpointEC2 = tt.endpoint
			c.TemporarySGSourceCidrs = []string{"203.0.113.0/24"} // not on loopback
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.ok {
				if len(ctx.Diags) != 0 {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || ctx.Diags[0].Summary != "Invalid custom_endpoint_ec2" {
				t.Errorf("diagnostics = %v, want Invalid custom_endpoint_ec2", ctx.Diags)
			}
		})
	}
}

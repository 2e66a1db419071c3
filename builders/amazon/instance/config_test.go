package instance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/check"
)

func valid(dir string) Config {
	var c Config
	c.Region = "us-east-1"
	c.AMIName = "web-{{timestamp}}"
	c.InstanceType = "m5d.large"
	c.SourceAMI = "ami-12345678"
	c.SSHUsername = "ec2-user"
	c.AccountID = "1234-5678-9012"
	c.S3Bucket = "bundles"
	c.X509CertPath = "cert.pem"
	c.X509KeyPath = "key.pem"
	return c
}

func TestInstanceConfig(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"account id", func(c *Config) { c.AccountID = "12345" }, "Invalid account_id"},
		{"cert missing", func(c *Config) { c.X509CertPath = "nope.pem" }, "File not found for x509_cert_path"},
		{"key missing", func(c *Config) { c.X509KeyPath = "nope.pem" }, "File not found for x509_key_path"},
		{"bundle prefix", func(c *Config) { c.BundlePrefix = "{{ nope }}" }, "Invalid template in bundle_prefix"},
		{"vol command placeholder", func(c *Config) { c.BundleVolCommand = "bundle {{.Bucket}}" }, "Invalid template in bundle_vol_command"},
		{"upload command ok", func(c *Config) { c.BundleUploadCommand = "up {{.BucketName}} {{.Token}}" }, ""},
		{"tpm", func(c *Config) { c.TPMSupport = "v1.2" }, "tpm_support"},
		{"shared checks run", func(c *Config) { c.Region = "nowhere" }, "Invalid region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid(dir)
			tt.edit(&c)
			ctx := &check.Context{BaseDir: dir}
			c.Prepare(ctx)
			diags := withoutRefusal(t, ctx.Diags)
			if tt.want == "" {
				if diags.HasErrors() {
					t.Fatalf("unexpected diagnostics: %v", diags)
				}
				return
			}
			if len(diags) != 1 || !strings.Contains(diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", diags, tt.want)
			}
		})
	}
}

// withoutRefusal checks that diags refuse the amazon-instance source as
// not implemented, first, and returns the other diagnostics.
func withoutRefusal(t *testing.T, diags hcl.Diagnostics) hcl.Diagnostics {
	t.Helper()
	if len(diags) == 0 {
		t.Fatal("no diagnostics; want the amazon-instance source refused")
	}
	if name, ok := check.UnimplementedName(diags[0]); !ok || name != Refused {
		t.Fatalf("first diagnostic %v; want %s refused as not implemented", diags[0], Refused)
	}
	return diags[1:]
}

func TestInstanceDefaults(t *testing.T) {
	c := valid("")
	c.Prepare(&check.Context{})
	if c.AccountID != "123456789012" || c.X509UploadPath != "/tmp" || c.BundleDestination != "/tmp" ||
		c.BundlePrefix != "image-{{timestamp}}" || c.BundleVolCommand != DefaultBundleVolCommand || c.BundleUploadCommand != DefaultBundleUploadCommand {
		t.Errorf("defaults: %+v", c)
	}
	p := valid("")
	p.IamInstanceProfile = "builder"
	p.Prepare(&check.Context{})
	if strings.Contains(p.BundleUploadCommand, "SecretKey") {
		t.Errorf("with an instance profile the upload command still passes keys: %s", p.BundleUploadCommand)
	}
}

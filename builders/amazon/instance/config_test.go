package instance

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
)

func valid() Config {
	var c Config
	c.Region = "us-east-1"
	c.AMIName = "web-{{timestamp}}"
	c.InstanceType = "m3.medium"
	c.SourceAMI = "ami-12345678"
	c.SSHUsername = "ec2-user"
	c.AccountID = "1234-5678-9012"
	c.S3Bucket = "bundles/images"
	c.X509CertPath = "cert.pem"
	c.X509KeyPath = "key.pem"
	return c
}

// writeKeys writes a certificate and its key as cert.pem and key.pem, and
// another key as other.pem.
func writeKeys(t *testing.T, dir string) {
	t.Helper()
	write := func(name string, blk *pem.Block) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "u"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &keys[0].PublicKey, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	write("cert.pem", &pem.Block{Type: "CERTIFICATE", Bytes: der})
	write("key.pem", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys[0])})
	write("other.pem", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys[1])})
	if err := os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestInstanceConfig(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir)
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"ec2 certificate", func(c *Config) { c.EC2CertPath = "cert.pem" }, ""},
		{"account id", func(c *Config) { c.AccountID = "12345" }, "Invalid account_id"},
		{"bucket name", func(c *Config) { c.S3Bucket = "Bundles_Here/x" }, "Invalid s3_bucket"},
		{"cert missing", func(c *Config) { c.X509CertPath = "nope.pem" }, "File not found for x509_cert_path"},
		{"key missing", func(c *Config) { c.X509KeyPath = "nope.pem" }, "File not found for x509_key_path"},
		{"key mismatched", func(c *Config) { c.X509KeyPath = "other.pem" }, "Unusable X.509 certificate or key"},
		{"cert unreadable", func(c *Config) { c.X509CertPath = "junk.pem" }, "Unusable X.509 certificate or key"},
		{"ec2 cert junk", func(c *Config) { c.EC2CertPath = "junk.pem" }, "Unusable EC2 certificate"},
		{"bundle prefix", func(c *Config) { c.BundlePrefix = "{{ nope }}" }, "Invalid template in bundle_prefix"},
		{"tools", func(c *Config) { c.BundleVolCommand = "sudo ec2-bundle-vol -p {{.Prefix}}"; c.X509UploadPath = "/root" }, ""},
		{"vol command placeholder", func(c *Config) { c.BundleVolCommand = "bundle {{.Bucket}}" }, "Invalid template in bundle_vol_command"},
		{"upload command placeholder", func(c *Config) { c.BundleUploadCommand = "up {{.Prefix}}" }, "Invalid template in bundle_upload_command"},
		{"upload path without tools", func(c *Config) { c.X509UploadPath = "/tmp" }, "x509_upload_path is not implemented yet"},
		{"destination without tools", func(c *Config) { c.BundleDestination = "/tmp" }, "bundle_destination is not implemented yet"},
		{"tpm", func(c *Config) { c.TPMSupport = "v2.0" }, "tpm_support is not implemented yet"},
		{"encrypt", func(c *Config) { c.AMIEncryptBootVolume = new(true) }, "encrypt_boot is not implemented yet"},
		{"encrypted copies", func(c *Config) {
			c.AMIRegions = []string{"eu-west-1"}
			c.AMIRegionKMSKeyIDs = map[string]string{"eu-west-1": "alias/images"}
		}, "region_kms_key_ids is not implemented yet"},
		{"shared checks run", func(c *Config) { c.Region = "nowhere" }, "Invalid region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			ctx := &check.Context{BaseDir: dir}
			c.Prepare(ctx)
			diags := ctx.Diags
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

func TestInstanceDefaults(t *testing.T) {
	dir := t.TempDir()
	writeKeys(t, dir)
	c := valid()
	c.Prepare(&check.Context{BaseDir: dir})
	b := c.bundle()
	if c.AccountID != "123456789012" || c.BundlePrefix != "image-{{timestamp}}" || b.Bucket != "bundles" || b.KeyPrefix != "images/" ||
		b.Tools || c.BundleVolCommand != "" || c.X509UploadPath != "" {
		t.Errorf("defaults: %+v %+v", c, b)
	}
	// Setting one of the AMI tools' commands takes Packer's defaults for
	// the rest.
	tools := valid()
	tools.BundleUploadCommand = "ec2-upload-bundle -b {{.BucketName}}"
	tools.Prepare(&check.Context{BaseDir: dir})
	if tb := tools.bundle(); !tb.Tools || tb.VolCommand != DefaultBundleVolCommand || tb.UploadPath != "/tmp" || tb.Destination != "/tmp" {
		t.Errorf("tools defaults: %+v", tb)
	}
	p := valid()
	p.IamInstanceProfile = "builder"
	p.BundleVolCommand = DefaultBundleVolCommand
	p.Prepare(&check.Context{BaseDir: dir})
	if strings.Contains(p.BundleUploadCommand, "SecretKey") {
		t.Errorf("with an instance profile the upload command still passes keys: %s", p.BundleUploadCommand)
	}
}

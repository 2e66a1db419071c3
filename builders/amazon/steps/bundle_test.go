package steps

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSplitBucket(t *testing.T) {
	for in, want := range map[string][2]string{
		"b": {"b", ""}, "b/": {"b", ""}, "b/images": {"b", "images/"}, "b/a/b/": {"b", "a/b/"},
	} {
		if b, p := SplitBucket(in); b != want[0] || p != want[1] {
			t.Errorf("SplitBucket(%q) = %q, %q; want %q", in, b, p, want)
		}
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "aws", "us-gov-west-1": "aws-us-gov", "cn-north-1": "aws-cn", "eu-west-1": "aws"} {
		if got := partition(region); got != want {
			t.Errorf("partition(%s) = %s, want %s", region, got, want)
		}
	}
}

// TestUploadPolicy checks the BundleInstance upload policy: base64 JSON
// (the SDK base64-encodes it) with the bucket, the ec2-bundle-read ACL and the key prefix, an
// expiration at least 12 hours away, and a signature that is base64
// HMAC-SHA1 of the base64 policy with the secret key.
func TestUploadPolicy(t *testing.T) {
	expires := time.Now().Add(policyLifetime)
	doc, sig, err := uploadPolicy("bundles", "images/win-1", "s3cr3t", expires)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha1.New, []byte("s3cr3t"))
	mac.Write([]byte(base64.StdEncoding.EncodeToString(doc)))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want {
		t.Errorf("signature %s, want %s", sig, want)
	}
	var p struct {
		Expiration string `json:"expiration"`
		Conditions []any  `json:"conditions"`
	}
	if err := json.Unmarshal(doc, &p); err != nil {
		t.Fatal(err)
	}
	exp, err := time.Parse("2006-01-02T15:04:05.000Z", p.Expiration)
	if err != nil || time.Until(exp) < 12*time.Hour {
		t.Errorf("expiration %q (%v): want at least 12 hours away", p.Expiration, err)
	}
	got, _ := json.Marshal(p.Conditions)
	if want := `[{"bucket":"bundles"},{"acl":"ec2-bundle-read"},["starts-with","$key","images/win-1"]]`; string(got) != want {
		t.Errorf("conditions %s, want %s", got, want)
	}
	if strings.Contains(string(doc), "s3cr3t") {
		t.Error("the policy holds the secret key")
	}
}

// TestRenderTools checks the EC2 AMI tools' commands: Packer's
// placeholders are filled, and the credentials appear only in the
// credentials file, never in a command.
func TestRenderTools(t *testing.T) {
	bc := &Bundle{AccountID: "123456789012", Bucket: "bundles", KeyPrefix: "images/", Tools: true,
		VolCommand:    "sudo -i -n ec2-bundle-vol -k {{.KeyPath}} -u {{.AccountId}} -c {{.CertPath}} -r {{.Architecture}} -e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} --batch --no-filter",
		UploadCommand: "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} -a {{.AccessKey}} -s {{.SecretKey}}{{if .Token}} -t {{.Token}}{{end}} -d {{.BundleDirectory}} --batch --region {{.Region}} --retry",
		UploadPath:    "/tmp/x509", Destination: "/mnt/bundle"}
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalr'XUtnFEMI", SessionToken: "tok3n"}
	tc, err := renderTools(bc, "eu-west-1", "web-1", "x86_64", creds, "abcd")
	if err != nil {
		t.Fatal(err)
	}
	if want := "sudo -i -n ec2-bundle-vol -k /tmp/x509/key.pem -u 123456789012 -c /tmp/x509/cert.pem -r x86_64 -e /tmp/x509/* -d /mnt/bundle -p web-1 --batch --no-filter"; tc.Vol != want {
		t.Errorf("vol command:\n%s\nwant\n%s", tc.Vol, want)
	}
	wantUpload := `. '/tmp/x509/imgbuild-credentials-abcd' && rm -f '/tmp/x509/imgbuild-credentials-abcd' && sudo -i -n ec2-upload-bundle -b bundles/images -m /mnt/bundle/web-1.manifest.xml -a "$IMGBUILD_BUNDLE_ACCESS_KEY" -s "$IMGBUILD_BUNDLE_SECRET_KEY" -t "$IMGBUILD_BUNDLE_TOKEN" -d /mnt/bundle --batch --region eu-west-1 --retry`
	if tc.Upload != wantUpload {
		t.Errorf("upload command:\n%s\nwant\n%s", tc.Upload, wantUpload)
	}
	for _, secret := range []string{"AKIDEXAMPLE", "XUtnFEMI", "tok3n"} {
		if strings.Contains(tc.Vol+tc.Upload, secret) {
			t.Errorf("a command holds %q", secret)
		}
		if !strings.Contains(tc.CredText, secret) {
			t.Errorf("the credentials file lacks %q", secret)
		}
	}
	if !strings.Contains(tc.CredText, `IMGBUILD_BUNDLE_SECRET_KEY='wJalr'"'"'XUtnFEMI'`) {
		t.Errorf("secret not shell-quoted: %s", tc.CredText)
	}
	bc.UploadCommand = "up {{.Nope}}"
	if _, err := renderTools(bc, "eu-west-1", "web-1", "x86_64", creds, "abcd"); err == nil || strings.Contains(err.Error(), "XUtnFEMI") {
		t.Errorf("unknown placeholder: %v", err)
	}
}

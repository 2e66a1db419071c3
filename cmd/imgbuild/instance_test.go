package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// instanceTemplate is an amazon-instance build of the catalogue's
// instance-store Amazon Linux AMI, for the tests that refuse it.
const instanceTemplate = `
variable "bucket" {
  type    = string
  default = "imgbuild-bundles"
}
variable "account_id" {
  type    = string
  default = "1234-5678-9012"
}
source "amazon-instance" "store" {
  region        = "us-east-1"
  instance_type = "m3.medium"
  ssh_username  = "ec2-user"
  source_ami_filter {
    filters = {
      name                = "amzn-ami-hvm-*-x86_64-s3"
      root-device-type    = "instance-store"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  ami_name       = "store-{{timestamp}}"
  ami_regions    = ["eu-west-1"]
  tags           = { Role = "store" }
  account_id     = var.account_id
  s3_bucket      = "${var.bucket}/images"
  bundle_prefix  = "store-{{timestamp}}"
  x509_cert_path = "user.crt"
  x509_key_path  = "user.key"
  ec2_cert_path  = "ec2.crt"
}
build {
  sources = ["source.amazon-instance.store"]
  provisioner "shell" {
    inline = ["echo bundled-by-imgbuild | sudo tee /etc/imgbuild-marker", "echo secret > ~/.bash_history"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`

// instanceFiles returns the template's files: a fresh user certificate
// and key, and the local cloud's EC2 bundling certificate.
func (e *e2e) instanceFiles() map[string]string {
	e.t.Helper()
	resp, err := http.Get(e.cloud.URL() + "/_localcloud/ec2-certificate")
	e.must(err)
	defer resp.Body.Close()
	ec2Cert, err := io.ReadAll(resp.Body)
	e.must(err)
	if resp.StatusCode != 200 || !strings.Contains(string(ec2Cert), "BEGIN CERTIFICATE") {
		e.t.Fatalf("the cloud's EC2 certificate: %s %s", resp.Status, ec2Cert)
	}
	cert, key := userCertificate(e.t)
	return map[string]string{"main.pkr.hcl": instanceTemplate, "user.crt": cert, "user.key": key, "ec2.crt": string(ec2Cert)}
}

// userCertificate makes a self-signed X.509 certificate and its RSA key,
// as PEM: what `openssl req -x509 -newkey rsa:2048` makes for bundling.
func userCertificate(t testing.TB) (certPEM, keyPEM string) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bundler"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// bundlingBinary is the binary of the builds that bundle a Linux root
// file system: the plain one. Under the race detector its pure-Go
// compression runs an order of magnitude slower, and those builds took
// minutes in CI; the bundler's concurrency is race-tested by
// internal/bundle's own tests, which run with -race.
func bundlingBinary(t *testing.T) string { return imgbuildBinary(t) }

func (e *e2e) s3() *s3.Client {
	return s3.NewFromConfig(testenv.AWSConfig(e.cloud.URL(), "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
}

// TestInstanceStoreImage builds examples/instance-store/linux.pkr.hcl
// unchanged: the image is registered from the bundle's manifest, copied
// to eu-west-1 and tagged; `imgbuild bundle verify` passes on the
// uploaded manifest; an instance launched from the copy has the
// provisioner's marker.
func TestInstanceStoreImage(t *testing.T) {
	e := newE2E(t, "instant")
	testenv.Require(t, testenv.Debugfs)
	e.bin = bundlingBinary(t)
	e.copyExample("instance-store")
	code, out, errOut := e.imgbuild("build", filepath.Join(e.dir, "linux.pkr.hcl"))
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"reading the root file system", "bundled ", "parts", "registering image"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	images := map[string]string{}
	for _, im := range e.manifest("manifest.json").Builds[0].Images {
		images[im.Region] = im.ImageID
	}
	ctx := context.Background()
	desc, err := e.ec2("us-east-1").DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{images["us-east-1"]}})
	e.must(err)
	img := desc.Images[0]
	loc := aws.ToString(img.ImageLocation)
	if img.RootDeviceType != types.DeviceTypeInstanceStore || !strings.HasPrefix(loc, "imgbuild-example-bundles/linux/linux-") ||
		!strings.HasSuffix(loc, ".manifest.xml") || tagValueOf(img.Tags, "Role") != "store" {
		t.Errorf("image in us-east-1: root %s, location %q, tags %v", img.RootDeviceType, loc, img.Tags)
	}
	if images["eu-west-1"] == "" {
		t.Fatalf("no copy in eu-west-1: %v", images)
	}
	code, vout, verr := e.imgbuild("bundle", "verify", "s3://"+loc, "--key", filepath.Join(e.dir, "test-only.key"))
	if code != 0 || !strings.Contains(vout, "parts") {
		t.Errorf("bundle verify s3://%s: exit %d\n%s\n%s", loc, code, vout, verr)
	}
	conn := e.boot("eu-west-1", images["eu-west-1"], "")
	if got := strings.TrimSpace(sshOutput(t, conn, "cat /etc/imgbuild-marker")); got != "bundled-by-imgbuild" {
		t.Errorf("marker on an instance of the copy: %q", got)
	}
}

// TestInstanceStoreBadInput: a wrong account_id, a bucket in another
// region and a bucket with ACLs disabled are refused before anything is
// created, each with what to do.
func TestInstanceStoreBadInput(t *testing.T) {
	e := newE2E(t, "instant")
	files := e.instanceFiles()
	e.write(files)
	ctx := context.Background()
	c := e.s3()
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("in-ireland"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
	e.must(err)
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("no-acls")})
	e.must(err)
	_, err = c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("no-acls"),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
	e.must(err)
	for _, tt := range []struct {
		name string
		vars []string
		want []string
	}{
		{"account", []string{"-var", "account_id=210987654321"}, []string{"account_id is 210987654321", "account 123456789012"}},
		{"region", []string{"-var", "bucket=in-ireland"}, []string{`s3_bucket "in-ireland" is in eu-west-1, not in us-east-1`}},
		{"acls", []string{"-var", "bucket=no-acls"}, []string{`s3_bucket "no-acls" has ACLs disabled`, "put-bucket-ownership-controls"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := e.imgbuild(append(append([]string{"build"}, tt.vars...), e.dir)...)
			if code == 0 {
				t.Fatalf("build succeeded:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s\n%s", w, out, errOut)
				}
			}
			runID := runIDFrom(t, out)
			if left := e.runResources("us-east-1", runID); len(left) > 0 {
				t.Errorf("resources created before the check: %v", left)
			}
			if strings.Contains(out, "launch") && strings.Contains(out, "i-") {
				t.Errorf("an instance was launched:\n%s", out)
			}
		})
	}
}

func tagValueOf(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// TestInstanceStoreFailureLeavesNothing: when the copy fails after the
// bundle was uploaded and registered, cleanup deregisters the image and
// deletes every object of the bundle.
func TestInstanceStoreFailureLeavesNothing(t *testing.T) {
	e := newE2E(t, "instant", "fail-images=eu-west-1/*")
	testenv.Require(t, testenv.Debugfs)
	e.bin = bundlingBinary(t)
	e.write(e.instanceFiles())
	code, out, errOut := e.imgbuild("build", "-var", "account_id=123456789012", e.dir)
	if code == 0 {
		t.Fatalf("build succeeded:\n%s", out)
	}
	if !strings.Contains(out, "bundled ") || !strings.Contains(out, "cleanup: delete the bundle's objects") {
		t.Errorf("the bundle was not made, or its cleanup not reported:\n%s\n%s", out, errOut)
	}
	runID := runIDFrom(t, out)
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if left := e.runResources(r, runID); len(left) > 0 {
			t.Errorf("%s: left behind: %v", r, left)
		}
	}
	objs, err := e.s3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("imgbuild-bundles")})
	e.must(err)
	for _, o := range objs.Contents {
		t.Errorf("object left in the bucket: %s", aws.ToString(o.Key))
	}
}

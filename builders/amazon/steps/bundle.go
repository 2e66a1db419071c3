package steps

import (
	"fmt"
	"strings"
	"sync"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/builder"
)

// The kinds of the instance-store steps (amazon-instance).
const (
	CheckBucket    builder.StepKind = "check-bucket"    // account, bucket and credentials, before anything is created
	BundleVolume   builder.StepKind = "bundle"          // the root file system into an S3 bundle
	RegisterBundle builder.StepKind = "register-bundle" // RegisterImage(ImageLocation)
)

// Bundle is how and where amazon-instance bundles the instance.
type Bundle struct {
	// AccountID is the 12-digit account that owns the image; the
	// credentials must be of it.
	AccountID string
	// Bucket is the S3 bucket the bundle goes to, and KeyPrefix the key
	// prefix inside it ("" or ending in "/"): s3_bucket "name/path".
	Bucket, KeyPrefix string
	// Prefix is bundle_prefix, a template ("image-{{timestamp}}").
	Prefix string
	// CertPath and KeyPath are the user's X.509 certificate and RSA key:
	// the key and IV are wrapped for the certificate, the manifest is
	// signed with the key.
	CertPath, KeyPath string
	// EC2CertPath is EC2's bundling certificate; "" takes the one of the
	// region's partition embedded in imgbuild.
	EC2CertPath string
	// Tools says the EC2 AMI tools bundle the instance (Packer's way):
	// VolCommand and UploadCommand run there, with the certificate and
	// key uploaded to UploadPath and the bundle written to Destination.
	Tools                                              bool
	VolCommand, UploadCommand, UploadPath, Destination string
}

// SplitBucket splits s3_bucket ("name" or "name/path") into the bucket's
// name and a key prefix that is empty or ends in "/".
func SplitBucket(s string) (bucket, keyPrefix string) {
	bucket, path, _ := strings.Cut(strings.Trim(s, "/"), "/")
	if path != "" {
		path += "/"
	}
	return bucket, path
}

// CheckBucketStep is the check that PlanLaunch runs before anything is
// created for an amazon-instance build.
func CheckBucketStep(src *amazon.SourceConfig, b *Bundle) *builder.Step {
	return &builder.Step{ID: string(CheckBucket), Kind: CheckBucket, Region: src.Region,
		Label: fmt.Sprintf("check account %s and bucket %s in %s", b.AccountID, b.Bucket, src.Region)}
}

// PlanBundle adds, after last (the provisioners), the steps that bundle
// the instance into S3 and register the bundle as an image in the build
// region, and returns the last of them.
func PlanBundle(p builder.Planner, src *amazon.SourceConfig, b *Bundle, last *builder.Step) *builder.Step {
	bundled := p.Add(&builder.Step{ID: string(BundleVolume), Kind: BundleVolume, Region: src.Region,
		Label:   "bundle the instance into s3://" + b.Bucket + "/" + b.KeyPrefix,
		Cleanup: "delete the bundle's objects if the build did not succeed", CleanupOnFailure: true}, last)
	return p.Add(&builder.Step{ID: string(RegisterBundle), Kind: RegisterBundle, Region: src.Region, ImageIn: src.Region,
		Label:   fmt.Sprintf("register image %q from the bundle in %s and wait until available", src.AMIName, src.Region),
		Cleanup: "deregister image if the build did not succeed", CleanupOnFailure: true}, bundled)
}

// bundleRecord is the bundle a build made: its manifest's location and
// the objects it wrote, in the build region.
type bundleRecord struct {
	mu       sync.Mutex
	bucket   string
	prefix   string   // bundle_prefix, rendered
	objects  []string // "<bucket>/<key>", journaled
	manifest string   // "<bucket>/<key>" of the manifest, once written
	task     string   // the BundleInstance task (Windows)
	kept     bool
}

func (r *bundleRecord) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.objects = append(r.objects, id)
}

func (r *bundleRecord) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.objects...)
}

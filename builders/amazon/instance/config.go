// Package instance is the amazon-instance builder: it launches an
// instance, provisions it, bundles its root file system into an
// instance-store bundle in S3 (a native streaming bundler on Linux, the
// BundleInstance API on Windows, or the EC2 AMI tools on the instance when
// the template sets their commands) and registers the bundle as an AMI,
// then copies, tags and shares it like amazon-ebs.
package instance

import (
	"regexp"
	"strings"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/builders/amazon/steps"
	"github.com/imgbuild/imgbuild/internal/bundle"
	"github.com/imgbuild/imgbuild/internal/check"
)

var (
	accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	bucketRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// Config is the configuration of a source "amazon-instance" block.
type Config struct {
	amazon.SourceConfig

	// AccountID is the AWS account ID (12 digits; dashes are removed).
	// Required.
	AccountID string `hcl:"account_id" required:"true" fingerprint:"-"`
	// S3Bucket is the bucket the bundle is uploaded to; it is created when
	// missing. Required.
	S3Bucket string `hcl:"s3_bucket" required:"true" fingerprint:"-"`
	// X509CertPath is the local path of the X.509 signing certificate
	// registered with the account; it must exist. Required.
	X509CertPath string `hcl:"x509_cert_path" required:"true" fingerprint:"-"`
	// X509KeyPath is the local path of the certificate's private key; it
	// must exist. Required.
	X509KeyPath string `hcl:"x509_key_path" required:"true" fingerprint:"-"`
	// EC2CertPath is EC2's public bundling certificate (PEM), for which
	// the bundle's key is wrapped so that EC2 can decrypt it. Default: the
	// certificate of the build region's partition (commercial, GovCloud,
	// China) built into imgbuild.
	EC2CertPath string `hcl:"ec2_cert_path" fingerprint:"-"`
	// X509UploadPath is the directory on the instance the certificate and
	// key are uploaded to when the EC2 AMI tools bundle the instance
	// (bundle_vol_command or bundle_upload_command set). Default: "/tmp".
	X509UploadPath string `hcl:"x509_upload_path" fingerprint:"-"`
	// BundleDestination is the directory on the instance the AMI tools
	// write the bundle to. Default: "/tmp".
	BundleDestination string `hcl:"bundle_destination" fingerprint:"-"`
	// BundlePrefix is the prefix of the bundle's object names; it may hold
	// legacy placeholders. Default: "image-{{timestamp}}".
	BundlePrefix string `hcl:"bundle_prefix" fingerprint:"-"`
	// BundleVolCommand, when set, bundles the volume on the instance with
	// the EC2 AMI tools instead of imgbuild's own bundler, as Packer does.
	// Placeholders: {{.AccountId}}, {{.Architecture}}, {{.CertPath}},
	// {{.Destination}}, {{.KeyPath}}, {{.Prefix}}, {{.PrivatePath}}.
	// Default (when bundle_upload_command is set): DefaultBundleVolCommand.
	BundleVolCommand string `hcl:"bundle_vol_command"`
	// BundleUploadCommand, when set, uploads the bundle from the instance
	// with the EC2 AMI tools. Placeholders: {{.AccessKey}},
	// {{.BucketName}}, {{.BundleDirectory}}, {{.ManifestName}},
	// {{.ManifestPath}}, {{.Region}}, {{.SecretKey}}, {{.Token}}; the
	// credentials render as shell variables read from an uploaded file
	// (mode 0600, removed by the command), never as their values. Default
	// (when bundle_vol_command is set): DefaultBundleUploadCommand.
	BundleUploadCommand string `hcl:"bundle_upload_command"`
	// TPMSupport is "v2.0" to register the AMI with NitroTPM; not
	// implemented (NitroTPM needs an EBS root).
	TPMSupport string `hcl:"tpm_support"`
}

// DefaultBundleVolCommand is Packer's bundle_vol_command.
const DefaultBundleVolCommand = "sudo -i -n ec2-bundle-vol -k {{.KeyPath}} -u {{.AccountId}} -c {{.CertPath}} -r {{.Architecture}} -e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} --batch --no-filter"

// DefaultBundleUploadCommand is Packer's bundle_upload_command. With an
// iam_instance_profile the -a and -s flags are left out, so the instance's
// own role credentials are used.
const DefaultBundleUploadCommand = "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} -a {{.AccessKey}} -s {{.SecretKey}}{{if .Token}} -t {{.Token}}{{end}} -d {{.BundleDirectory}} --batch --region {{.Region}} --retry"

const profileBundleUploadCommand = "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} -d {{.BundleDirectory}} --batch --region {{.Region}} --retry"

// hintTools says why settings of the AMI tools' bundling are refused
// without it.
const hintTools = "It only applies when the EC2 AMI tools bundle the instance (bundle_vol_command or bundle_upload_command set); imgbuild's own bundler reads the root file system over SSH and uploads nothing to the instance: remove it, or set bundle_vol_command."

// Prepare fills defaults and checks the configuration offline, reporting
// every problem at once.
func (c *Config) Prepare(ctx *check.Context) {
	c.setDefaults()
	c.SourceConfig.Prepare(ctx)
	c.AccountID = strings.ReplaceAll(c.AccountID, "-", "")
	if c.AccountID != "" && !accountIDRE.MatchString(c.AccountID) {
		ctx.Errorf(check.Path("account_id"), "Invalid account_id", "%q is not an AWS account ID (12 digits).", c.AccountID)
	}
	if bucket, _ := steps.SplitBucket(c.S3Bucket); c.S3Bucket != "" && !bucketRE.MatchString(bucket) {
		ctx.Errorf(check.Path("s3_bucket"), "Invalid s3_bucket", "%q is not an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens), optionally followed by /path.", bucket)
	}
	c.checkKeys(ctx)
	ctx.Placeholders(check.Path("bundle_prefix"), c.BundlePrefix)
	if c.Tools() {
		commandTemplate(ctx, "bundle_vol_command", c.BundleVolCommand,
			"AccountId", "Architecture", "CertPath", "Destination", "KeyPath", "Prefix", "PrivatePath")
		commandTemplate(ctx, "bundle_upload_command", c.BundleUploadCommand,
			"AccessKey", "BucketName", "BundleDirectory", "ManifestName", "ManifestPath", "Region", "SecretKey", "Token")
	} else {
		ctx.RefuseSet(check.Path("x509_upload_path"), c.X509UploadPath != "", hintTools)
		ctx.RefuseSet(check.Path("bundle_destination"), c.BundleDestination != "", hintTools)
	}
	ctx.RefuseSet(check.Path("tpm_support"), c.TPMSupport != "", "NitroTPM needs an EBS root device: build with amazon-ebs instead.")
	enc := c.AMIEncryptBootVolume != nil && *c.AMIEncryptBootVolume
	ctx.RefuseSet(check.Path("encrypt_boot"), enc, "An instance-store image has no EBS snapshot to encrypt: remove it, or build with amazon-ebs.")
	ctx.RefuseSet(check.Path("kms_key_id"), c.AMIKmsKeyID != "", "An instance-store image has no EBS snapshot to encrypt: remove it, or build with amazon-ebs.")
	// CopyImage encrypts only EBS snapshots: the copies of an
	// instance-store image cannot be encrypted either.
	ctx.RefuseSet(check.Path("region_kms_key_ids"), len(c.AMIRegionKMSKeyIDs) > 0,
		"An instance-store image has no EBS snapshot to encrypt, so its copies cannot be encrypted: remove it, or build with amazon-ebs.")
}

// checkKeys checks that the X.509 certificate and key can be read and
// match, and that ec2_cert_path holds a certificate, at their attributes.
func (c *Config) checkKeys(ctx *check.Context) {
	ctx.File(check.Path("x509_cert_path"), c.X509CertPath)
	ctx.File(check.Path("x509_key_path"), c.X509KeyPath)
	ctx.File(check.Path("ec2_cert_path"), c.EC2CertPath)
	if c.X509CertPath == "" || c.X509KeyPath == "" || ctx.Diags.HasErrors() && !fileOK(ctx, c.X509CertPath, c.X509KeyPath) {
		return
	}
	if _, _, err := bundle.LoadUserKeys(check.Resolve(ctx.BaseDir, c.X509CertPath), check.Resolve(ctx.BaseDir, c.X509KeyPath)); err != nil {
		ctx.Errorf(check.Path("x509_cert_path"), "Unusable X.509 certificate or key", "%v", err)
	}
	if c.EC2CertPath != "" && fileOK(ctx, c.EC2CertPath) {
		if _, err := bundle.LoadCertificate(check.Resolve(ctx.BaseDir, c.EC2CertPath)); err != nil {
			ctx.Errorf(check.Path("ec2_cert_path"), "Unusable EC2 certificate", "%v", err)
		}
	}
}

// fileOK reports whether every path names a readable file.
func fileOK(ctx *check.Context, paths ...string) bool {
	for _, p := range paths {
		if check.FileExists(ctx.BaseDir, p) != nil {
			return false
		}
	}
	return true
}

func (c *Config) setDefaults() {
	if c.BundlePrefix == "" {
		c.BundlePrefix = "image-{{timestamp}}"
	}
	if !c.Tools() {
		return
	}
	upload := DefaultBundleUploadCommand
	if c.IamInstanceProfile != "" {
		upload = profileBundleUploadCommand
	}
	for _, d := range []struct {
		p   *string
		def string
	}{
		{&c.X509UploadPath, "/tmp"},
		{&c.BundleDestination, "/tmp"},
		{&c.BundleVolCommand, DefaultBundleVolCommand},
		{&c.BundleUploadCommand, upload},
	} {
		if *d.p == "" {
			*d.p = d.def
		}
	}
}

// Tools reports whether the EC2 AMI tools bundle the instance, as in
// Packer: the template sets bundle_vol_command or bundle_upload_command.
func (c *Config) Tools() bool { return c.BundleVolCommand != "" || c.BundleUploadCommand != "" }

// commandTemplate checks a bundle command against its placeholders.
func commandTemplate(ctx *check.Context, attr, s string, keys ...string) {
	ctx.Check(check.Path(attr), "Invalid template in "+attr, check.CommandTemplate(s, keys...))
}

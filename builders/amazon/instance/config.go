// Package instance is the configuration of the amazon-instance builder,
// which will launch an instance-store instance, provision it, bundle its
// root volume to S3 with the EC2 AMI tools and register the bundle as an
// AMI (Linux only). The build itself is not implemented yet, so validate
// refuses every amazon-instance source.
package instance

import (
	"regexp"
	"strings"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/check"
)

// DefaultBundleVolCommand is the default bundle_vol_command.
const DefaultBundleVolCommand = "sudo -i -n ec2-bundle-vol -k {{.KeyPath}} -u {{.AccountId}} -c {{.CertPath}} -r {{.Architecture}} -e {{.PrivatePath}}/* -d {{.Destination}} -p {{.Prefix}} --batch --no-filter"

// DefaultBundleUploadCommand is the default bundle_upload_command. With an
// iam_instance_profile the -a and -s flags are left out, so the instance's
// own role credentials are used.
const DefaultBundleUploadCommand = "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} -a {{.AccessKey}} -s {{.SecretKey}}{{if .Token}} -t {{.Token}}{{end}} -d {{.BundleDirectory}} --batch --region {{.Region}} --retry"

const profileBundleUploadCommand = "sudo -i -n ec2-upload-bundle -b {{.BucketName}} -m {{.ManifestPath}} -d {{.BundleDirectory}} --batch --region {{.Region}} --retry"

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// Config is the configuration of a source "amazon-instance" block.
type Config struct {
	amazon.SourceConfig

	// AccountID is the AWS account ID (12 digits; dashes are removed).
	// Required.
	AccountID string `hcl:"account_id" required:"true"`
	// S3Bucket is the bucket the bundle is uploaded to; it is created when
	// missing. Required.
	S3Bucket string `hcl:"s3_bucket" required:"true"`
	// X509CertPath is the local path of the X.509 signing certificate
	// registered with the account; it must exist. Required.
	X509CertPath string `hcl:"x509_cert_path" required:"true"`
	// X509KeyPath is the local path of the certificate's private key; it
	// must exist. Required.
	X509KeyPath string `hcl:"x509_key_path" required:"true"`
	// X509UploadPath is the directory on the instance the certificate and
	// key are uploaded to; it is excluded from the bundle. Default: "/tmp".
	X509UploadPath string `hcl:"x509_upload_path"`
	// BundleDestination is the directory on the instance the bundle is
	// written to. Default: "/tmp".
	BundleDestination string `hcl:"bundle_destination"`
	// BundlePrefix is the prefix of the bundle's file names; it may hold
	// legacy placeholders. Default: "image-{{timestamp}}".
	BundlePrefix string `hcl:"bundle_prefix"`
	// BundleVolCommand bundles the volume. Placeholders: {{.AccountId}},
	// {{.Architecture}}, {{.CertPath}}, {{.Destination}}, {{.KeyPath}},
	// {{.Prefix}}, {{.PrivatePath}}. Default: DefaultBundleVolCommand.
	BundleVolCommand string `hcl:"bundle_vol_command"`
	// BundleUploadCommand uploads the bundle. Placeholders:
	// {{.AccessKey}}, {{.BucketName}}, {{.BundleDirectory}},
	// {{.ManifestName}}, {{.ManifestPath}}, {{.Region}}, {{.SecretKey}},
	// {{.Token}}. Default: DefaultBundleUploadCommand.
	BundleUploadCommand string `hcl:"bundle_upload_command"`
	// TPMSupport is "v2.0" to register the AMI with NitroTPM. Default: unset.
	TPMSupport string `hcl:"tpm_support"`
}

// Refused is the name under which validate refuses every amazon-instance
// source: the configuration is checked, but building instance-store images
// is not implemented yet.
const Refused = `source "amazon-instance"`

// Prepare fills defaults and checks the configuration offline. Every
// source is refused (Refused) before anything is created; the other
// checks still run so all problems are reported at once.
func (c *Config) Prepare(ctx *check.Context) {
	ctx.NotImplemented(nil, Refused,
		"Building instance-store images is not implemented yet: use amazon-ebs, which takes the same settings apart from the bundle and x509 ones.")
	c.setDefaults()
	c.SourceConfig.Prepare(ctx)
	c.AccountID = strings.ReplaceAll(c.AccountID, "-", "")
	if c.AccountID != "" && !accountIDRE.MatchString(c.AccountID) {
		ctx.Errorf(check.Path("account_id"), "Invalid account_id", "%q is not an AWS account ID (12 digits).", c.AccountID)
	}
	ctx.File(check.Path("x509_cert_path"), c.X509CertPath)
	ctx.File(check.Path("x509_key_path"), c.X509KeyPath)
	ctx.Placeholders(check.Path("bundle_prefix"), c.BundlePrefix)
	commandTemplate(ctx, "bundle_vol_command", c.BundleVolCommand,
		"AccountId", "Architecture", "CertPath", "Destination", "KeyPath", "Prefix", "PrivatePath")
	commandTemplate(ctx, "bundle_upload_command", c.BundleUploadCommand,
		"AccessKey", "BucketName", "BundleDirectory", "ManifestName", "ManifestPath", "Region", "SecretKey", "Token")
	ctx.Enum(check.Path("tpm_support"), c.TPMSupport, "v2.0")
}

func (c *Config) setDefaults() {
	defaults := []struct {
		p   *string
		def string
	}{
		{&c.X509UploadPath, "/tmp"},
		{&c.BundleDestination, "/tmp"},
		{&c.BundlePrefix, "image-{{timestamp}}"},
		{&c.BundleVolCommand, DefaultBundleVolCommand},
		{&c.BundleUploadCommand, DefaultBundleUploadCommand},
	}
	if c.IamInstanceProfile != "" {
		defaults[4].def = profileBundleUploadCommand
	}
	for _, d := range defaults {
		if *d.p == "" {
			*d.p = d.def
		}
	}
}

// commandTemplate checks a bundle command against the builder's placeholders.
func commandTemplate(ctx *check.Context, attr, s string, keys ...string) {
	ctx.Check(check.Path(attr), "Invalid template in "+attr, check.CommandTemplate(s, keys...))
}

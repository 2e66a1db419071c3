package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// checkBucket checks, before anything is created, what an amazon-instance
// build needs from the account: the credentials are of account_id; on a
// Windows source (BundleInstance) they are long-term keys that can sign
// an upload policy; the bucket is in the build region, with ACLs enabled
// (EC2 reads a bundle through the aws-exec-read canned ACL), or does not
// exist yet, and then it is created with ACLs enabled. A bucket it creates
// is kept, like ec2-upload-bundle leaves one: images are registered from it.
type checkBucket struct{ b *build }

// Run makes the checks.
func (n *checkBucket) Run(ctx context.Context) error {
	b, bc, region := n.b, n.b.cfg.Bundle, n.b.cfg.Region
	if acct := b.sess.Identity().Account; acct != "" && acct != bc.AccountID {
		return fmt.Errorf("account_id is %s, but the credentials (%s) are of account %s: set account_id to the account that owns the image, or use that account's credentials",
			bc.AccountID, b.sess.Identity().ARN, acct)
	}
	if b.st.source.Windows && bc.Tools {
		return fmt.Errorf("the source image %s is Windows, which EC2 bundles itself (BundleInstance): bundle_vol_command and bundle_upload_command apply to Linux only; remove them", b.st.source.ID)
	}
	if b.st.source.Windows {
		if err := n.longTermKeys(ctx); err != nil {
			return err
		}
	}
	c := b.sess.S3(region)
	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bc.Bucket)})
	switch code := awsapi.ErrorCode(err); {
	case err == nil:
	case code == "NotFound" || code == "NoSuchBucket":
		return n.create(ctx, c)
	case code == "Forbidden" || code == "AccessDenied" || code == "403":
		return fmt.Errorf("s3_bucket %q exists but these credentials may not use it (it belongs to another account, or a policy refuses it): choose a bucket of account %s", bc.Bucket, bc.AccountID)
	default:
		return fmt.Errorf("look up s3_bucket %q: %w", bc.Bucket, err)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bc.Bucket)})
	if err != nil {
		return fmt.Errorf("find the region of s3_bucket %q: %w", bc.Bucket, err)
	}
	if in := bucketRegion(loc.LocationConstraint); in != region {
		return fmt.Errorf("s3_bucket %q is in %s, not in %s: EC2 registers an instance-store image from a bucket in the image's region; use a bucket in %s", bc.Bucket, in, region, region)
	}
	own, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bc.Bucket)})
	if awsapi.ErrorCode(err) == "OwnershipControlsNotFoundError" {
		return nil // a bucket from before ownership controls: ACLs on
	}
	if err != nil {
		return fmt.Errorf("read the object ownership of s3_bucket %q: %w", bc.Bucket, err)
	}
	if own.OwnershipControls != nil {
		for _, r := range own.OwnershipControls.Rules {
			if r.ObjectOwnership == s3types.ObjectOwnershipBucketOwnerEnforced {
				return fmt.Errorf("s3_bucket %q has ACLs disabled (Object Ownership \"bucket owner enforced\", the S3 default since April 2023), and EC2 reads a bundle through the aws-exec-read ACL: enable ACLs with `aws s3api put-bucket-ownership-controls --bucket %s --ownership-controls 'Rules=[{ObjectOwnership=ObjectWriter}]'`, or use another bucket",
					bc.Bucket, bc.Bucket)
			}
		}
	}
	return nil
}

// create makes the bucket in the build region with ACLs enabled, and
// journals it as kept.
func (n *checkBucket) create(ctx context.Context, c *s3.Client) error {
	b, bc, region := n.b, n.b.cfg.Bundle, n.b.cfg.Region
	in := &s3.CreateBucketInput{Bucket: aws.String(bc.Bucket), ObjectOwnership: s3types.ObjectOwnershipObjectWriter}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := c.CreateBucket(ctx, in); err != nil {
		return fmt.Errorf("create s3_bucket %q in %s: %w", bc.Bucket, region, err)
	}
	b.say("created bucket %s in %s (ACLs enabled); it is kept: the image is registered from it", bc.Bucket, region)
	return b.env.Journal.Kept(journal.Bucket, region, bc.Bucket)
}

// longTermKeys refuses temporary credentials: BundleInstance takes an
// upload policy signed with a secret key, and has no field for a session
// token, so S3 would refuse the bundle's uploads.
func (n *checkBucket) longTermKeys(ctx context.Context) error {
	creds, err := n.b.sess.Credentials(ctx)
	if err != nil {
		return fmt.Errorf("read the credentials: %w", err)
	}
	if creds.SessionToken != "" {
		return fmt.Errorf("the source image is Windows, which is bundled by EC2's BundleInstance, and these are temporary (STS) credentials (%s): BundleInstance's upload policy is signed with a secret key and carries no session token. Use an IAM user's access keys, or build an EBS image with amazon-ebs", creds.Source)
	}
	return nil
}

// bucketRegion maps GetBucketLocation's answer to a region name.
func bucketRegion(c s3types.BucketLocationConstraint) string {
	switch c {
	case "":
		return "us-east-1"
	case s3types.BucketLocationConstraintEu:
		return "eu-west-1"
	}
	return string(c)
}

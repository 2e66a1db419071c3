package ebsbuild

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// snapshotDeleteTimeout bounds the retries of DeleteSnapshot while EC2
// still considers the snapshot used by the image just deregistered.
const snapshotDeleteTimeout = 2 * time.Minute

// imageCall is one image-creating call (CreateImage or CopyImage) with
// what the journal and a lost-answer lookup need.
type imageCall struct {
	// what names the operation in errors, e.g. "copy ami-1 to eu-west-1".
	what                string
	region, name, token string
	tags                map[string]string
	// create makes the call and returns the new image ID.
	create func(ctx context.Context) (string, error)
	// wait waits until the image is available.
	wait func(ctx context.Context, id string) (types.Image, error)
}

// makeImage journals the intent, makes the call, records the ID in rec
// (so cleanup can remove it even if the wait fails), waits, and records
// the snapshots. A call whose answer was lost or that reports a duplicate
// name is resolved by looking the image up by name and run tags.
func (b *build) makeImage(ctx context.Context, call imageCall, rec *imageRecord) error {
	rec.Region, rec.Name = call.region, call.name
	ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.Image, Region: call.region, Build: b.env.BuildName,
		Name: call.name, ClientToken: call.token, Tags: call.tags})
	if err != nil {
		return err
	}
	id, err := call.create(ctx)
	if err != nil {
		if id = b.adoptImage(ctx, call.region, call.name); id == "" {
			if awsapi.ErrorCode(err) != "" {
				_ = b.env.Journal.NotCreated(ref) // refused: nothing was created
			}
			return err
		}
	}
	rec.ID = id
	if err := b.env.Journal.Created(ref, id); err != nil {
		return err
	}
	img, err := call.wait(ctx, id)
	rec.Snapshots = snapshotIDs(img)
	if jerr := b.journalSnapshots(call.region, id, rec.Snapshots); jerr != nil {
		return jerr
	}
	if err != nil {
		return fmt.Errorf("%s: image %s (%s) in %s did not become available; cleanup removes it: %w", call.what, id, call.name, call.region, err)
	}
	return nil
}

// adoptImage returns the ID of this build's image named name in region,
// or "" when there is none (or it cannot be told).
func (b *build) adoptImage(ctx context.Context, region, name string) string {
	out, err := b.ec2(region).DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"self"},
		Filters: append(tagFilters(b.env.RunTags()), types.Filter{Name: aws.String("name"), Values: []string{name}}),
	})
	if err != nil || len(out.Images) != 1 {
		return ""
	}
	return aws.ToString(out.Images[0].ImageId)
}

// ownImagesNamed returns the images of the account named name in region
// that are not this build's.
func (b *build) ownImagesNamed(ctx context.Context, region, name string) ([]types.Image, error) {
	out, err := b.ec2(region).DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, Filters: []types.Filter{{Name: aws.String("name"), Values: []string{name}}},
	})
	if err != nil {
		return nil, fmt.Errorf("look for images named %q in %s: %w", name, region, err)
	}
	var others []types.Image
	for _, img := range out.Images {
		if tagValue(img.Tags, builder.TagRunID) != b.env.RunID {
			others = append(others, img)
		}
	}
	return others, nil
}

// journalSnapshots records the snapshots of a just-created image.
func (b *build) journalSnapshots(region, imageID string, snaps []string) error {
	for _, s := range snaps {
		ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.Snapshot, Region: region, Build: b.env.BuildName, Parent: imageID})
		if err != nil {
			return err
		}
		if err := b.env.Journal.Created(ref, s); err != nil {
			return err
		}
	}
	return nil
}

// removeImage deregisters an image this build created and deletes its
// snapshots, recording each deletion. Errors name what may be left.
func (b *build) removeImage(ctx context.Context, rec *imageRecord) error {
	c := b.ec2(rec.Region)
	snaps := rec.Snapshots
	if len(snaps) == 0 {
		if out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{rec.ID}}); err == nil && len(out.Images) == 1 {
			snaps = snapshotIDs(out.Images[0])
		}
	}
	if b.cfg.DeregistrationProtection.Enabled {
		_, _ = c.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(rec.ID)})
	}
	if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(rec.ID)}); err != nil && !awsapi.IsGone(err) {
		return fmt.Errorf("deregister image %s in %s, it and its snapshots %v may be left behind: %w", rec.ID, rec.Region, snaps, err)
	}
	errs := []error{b.env.Journal.Deleted(journal.Image, rec.Region, rec.ID)}
	for _, s := range snaps {
		errs = append(errs, b.deleteSnapshot(ctx, c, rec.Region, s))
	}
	return errors.Join(errs...)
}

// deleteSnapshot deletes one snapshot, retrying while it is still in use
// by the image just deregistered.
func (b *build) deleteSnapshot(ctx context.Context, c *ec2.Client, region, id string) error {
	err := awsapi.Wait(ctx, awsapi.WaitSpec{
		What: "snapshot " + id + " in " + region + " deleted", Timeout: snapshotDeleteTimeout,
		Check: func(ctx context.Context) (bool, string, error) {
			_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
			switch {
			case err == nil || awsapi.IsGone(err):
				return true, "deleted", nil
			case awsapi.ErrorCode(err) == "InvalidSnapshot.InUse":
				return false, "in use", nil
			}
			return false, "", err
		},
	})
	if err != nil {
		return fmt.Errorf("delete snapshot %s in %s, it may be left behind: %w", id, region, err)
	}
	return b.env.Journal.Deleted(journal.Snapshot, region, id)
}

// snapshotIDs returns the EBS snapshots of an image.
func snapshotIDs(img types.Image) []string {
	var out []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			out = append(out, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	return out
}

func tagValue(tags []types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

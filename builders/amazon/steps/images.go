package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// imageCall is one image-creating call (CreateImage or CopyImage) with
// what the journal and a lost-answer lookup need.
type imageCall struct {
	// what names the operation in errors, e.g. "copy ami-1 to eu-west-1".
	what                string
	region, name, token string
	// tags and snapTags are the image's and snapshots' tags asked for:
	// checkTags applies what the endpoint dropped.
	tags, snapTags map[string]string
	// create makes the call and returns the new image ID.
	create func(ctx context.Context) (string, error)
	// copy is true for a CopyImage, whose wait is bounded by the copy
	// timeout (Timeouts.CopyAvailable) instead of the image one.
	copy bool
}

// makeImage journals the intent, makes the call, records the ID in rec
// (so cleanup can remove it even if the wait fails), waits, and journals
// the snapshots as soon as a describe of the pending image lists them,
// before the rest of the wait. A duplicate name of this build's own image
// (an SDK retry after a lost answer) is adopted, another image's is
// refused with advice; a call whose outcome is unknown is left
// in rec.pending for the cleanup to resolve by name and run tags.
func (b *build) makeImage(ctx context.Context, call imageCall, rec *imageRecord) error {
	rec.Region, rec.Name = call.region, call.name
	intent := journal.Resource{Type: journal.Image, Region: call.region, Build: b.env.BuildName,
		Name: call.name, ClientToken: call.token, Tags: call.tags}
	ref, err := b.env.Journal.Intent(intent)
	if err != nil {
		return err
	}
	id, err := call.create(ctx)
	if err != nil && awsapi.IsDuplicate(err) {
		if terr := b.nameTaken(ctx, call); terr != nil {
			_ = b.env.Journal.NotCreated(ref) // refused: best effort, cleanup resolves the intent otherwise
			return terr
		}
	}
	if err != nil {
		if rec.ID, rec.pending = b.failedCreate(ctx, ref, intent, err); rec.ID == "" {
			return err
		}
	} else {
		rec.ID = id
		if err := b.env.Journal.Created(ref, id); err != nil {
			return err
		}
	}
	img, err := b.waitImage(ctx, call, rec)
	if err == nil {
		rec.image = img
	}
	if jerr := b.journalSnapshots(rec, snapshotIDs(img.Image)); jerr != nil {
		return jerr
	}
	if err != nil {
		return fmt.Errorf("%s: image %s (%s) in %s did not become available; cleanup removes it: %w", call.what, rec.ID, call.name, call.region, err)
	}
	return b.checkTags(ctx, rec, call.tags, call.snapTags)
}

// nameTaken tells a call refused for a duplicate name whose image is not
// this build's (an SDK retry after a lost answer finds its own) from one
// that only repeated itself: it returns the error to report when another
// image has the name, nil otherwise.
func (b *build) nameTaken(ctx context.Context, call imageCall) error {
	olds, err := b.ownImagesNamed(ctx, call.region, call.name)
	if err != nil || len(olds) == 0 {
		return nil
	}
	return fmt.Errorf("%s: an image named %q already exists in %s (%s); set force_deregister = true to replace it",
		call.what, call.name, call.region, aws.ToString(olds[0].ImageId))
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
		if tagValue(img.Tags, tags.RunID) != b.env.RunID {
			others = append(others, img)
		}
	}
	return others, nil
}

// waitImage waits until rec's image is available, journaling its
// snapshots as the waiter first sees them: EC2 lists a pending image's
// snapshots once it has made them, long before the image is available.
func (b *build) waitImage(ctx context.Context, call imageCall, rec *imageRecord) (awsapi.Image, error) {
	w := b.waiter(call.region)
	var jerr error
	w.Snapshots = func(_, _ string, ids []string) {
		if jerr == nil {
			jerr = b.journalSnapshots(rec, ids)
		}
	}
	wait := w.ImageAvailable
	if call.copy {
		wait = w.CopyAvailable
	}
	img, err := wait(ctx, rec.ID)
	if jerr != nil {
		return img, jerr
	}
	return img, err
}

// journalSnapshots records the snapshots of rec's image among snaps that
// it has not recorded yet, and adds them to rec.Snapshots.
func (b *build) journalSnapshots(rec *imageRecord, snaps []string) error {
	for _, s := range snaps {
		if slices.Contains(rec.Snapshots, s) {
			continue
		}
		// The ID is known already: the intent carries it, so that a kill
		// before the created record leaves an intent cleanup can resolve.
		ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.Snapshot, Region: rec.Region, Build: b.env.BuildName, Parent: rec.ID, ID: s})
		if err != nil {
			return err
		}
		if err := b.env.Journal.Created(ref, s); err != nil {
			return err
		}
		rec.Snapshots = append(rec.Snapshots, s)
	}
	return nil
}

// cleanupImage removes an image this build created, after looking it up
// when its create call's outcome is unknown: sweep.Delete lifts its
// deregistration protection, deregisters it and deletes the snapshots its
// block device mappings name; the snapshots the build recorded are then
// deleted too (they are gone already unless the image was), and every
// deletion is journaled. Errors name what may be left.
func (b *build) cleanupImage(ctx context.Context, rec *imageRecord) error {
	if rec.pending != nil {
		id, err := rec.pending.resolve(ctx, b)
		if err != nil {
			return err
		}
		rec.ID, rec.pending = id, nil
	}
	if !rec.valid() {
		return nil
	}
	if err := b.uncomplete(ctx, rec); err != nil {
		return err
	}
	img := journal.Resource{Type: journal.Image, Region: rec.Region, ID: rec.ID}
	if err := b.remove(ctx, img); err != nil {
		return fmt.Errorf("%w (with its snapshots %v)", err, rec.Snapshots)
	}
	var errs []error
	for _, s := range rec.Snapshots {
		errs = append(errs, b.remove(ctx, journal.Resource{Type: journal.Snapshot, Region: rec.Region, ID: s}))
	}
	return errors.Join(errs...)
}

// uncomplete lifts the imgbuild:complete tag from an image and its
// snapshots when join may have put it there before the build failed:
// sweep.Delete never removes a finished build's output.
func (b *build) uncomplete(ctx context.Context, rec *imageRecord) error {
	if !b.st.tagging.Load() {
		return nil
	}
	_, err := b.ec2(rec.Region).DeleteTags(ctx, &ec2.DeleteTagsInput{
		Resources: append([]string{rec.ID}, rec.Snapshots...), Tags: []types.Tag{{Key: aws.String(tags.Complete)}},
	})
	if err != nil && !awsapi.IsGone(err) {
		return fmt.Errorf("remove the %s tag of image %s in %s to delete it; it and its snapshots %v may be left behind: %w",
			tags.Complete, rec.ID, rec.Region, rec.Snapshots, err)
	}
	return nil
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

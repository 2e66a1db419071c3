package sweep

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// cooldown is how long EC2 keeps protection after a disable when it was
// enabled WithCooldown (aws.md 3.6).
const cooldown = 24 * time.Hour

// ProtectedError says that an image cannot be deregistered yet because its
// deregistration protection was enabled with a cooldown.
type ProtectedError struct {
	ImageID string
	// Until is when the protection ends; zero when EC2 did not say.
	Until time.Time
}

func (e *ProtectedError) Error() string {
	if e.Until.IsZero() {
		return fmt.Sprintf("image %s is protected with cooldown; run cleanup again once the 24h cooldown has passed", e.ImageID)
	}
	return fmt.Sprintf("image %s is protected with cooldown until %s; run cleanup again after then",
		e.ImageID, e.Until.UTC().Format(time.RFC3339))
}

// deleteImage lifts deregistration protection, deregisters the image and
// deletes the snapshots its block device mappings named.
func deleteImage(ctx context.Context, c *ec2.Client, r journal.Resource) error {
	id := r.ID
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		return err
	}
	if len(out.Images) == 0 {
		return notListed("InvalidAMIID.NotFound", id)
	}
	img := out.Images[0]
	if _, ok := tagMap(img.Tags)[tagComplete]; ok {
		return ErrComplete
	}
	protection := aws.ToString(img.DeregistrationProtection)
	var disabledAt time.Time
	if strings.HasPrefix(protection, "enabled") {
		disabledAt = time.Now()
		if _, err := c.DisableImageDeregistrationProtection(ctx,
			&ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)}); err != nil {
			return fmt.Errorf("disable deregistration protection: %w", err)
		}
	}
	_, err = c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	if awsapi.ErrorCode(err) == "OperationNotPermitted" {
		return protectedError(ctx, c, id, protection, disabledAt)
	}
	if err != nil {
		return err
	}
	return deleteSnapshots(ctx, c, r, imageSnapshots(img))
}

// protectedError explains why a deregistration was refused: the cooldown
// of a protection enabled WithCooldown. EC2 may name the end of the
// cooldown in the image's DeregistrationProtection; otherwise it is 24h
// after the disable.
func protectedError(ctx context.Context, c *ec2.Client, id, before string, disabledAt time.Time) error {
	e := &ProtectedError{ImageID: id}
	if out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}); err == nil && len(out.Images) > 0 {
		e.Until = untilIn(aws.ToString(out.Images[0].DeregistrationProtection))
	}
	if e.Until.IsZero() {
		e.Until = untilIn(before)
	}
	if e.Until.IsZero() && before == "enabled-with-cooldown" && !disabledAt.IsZero() {
		e.Until = disabledAt.Add(cooldown)
	}
	return e
}

var timestamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// untilIn finds the time in a DeregistrationProtection value such as
// "disabled until 2026-05-18T12:00:00Z".
func untilIn(s string) time.Time {
	t, err := time.Parse(time.RFC3339, timestamp.FindString(s))
	if err != nil {
		return time.Time{}
	}
	return t
}

// imageSnapshots returns the snapshots of an image's EBS block devices.
func imageSnapshots(img types.Image) []string {
	var ids []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			ids = append(ids, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	return ids
}

// deleteSnapshots deletes an image's snapshots after DeregisterImage,
// retrying InvalidSnapshot.InUse while EC2 catches up with the
// deregistration, and a NotFound until a filtered describe confirms it
// (the snapshots of a young image may not be visible by ID yet).
func deleteSnapshots(ctx context.Context, c *ec2.Client, img journal.Resource, ids []string) error {
	for _, id := range ids {
		snap := journal.Resource{Type: journal.Snapshot, Region: img.Region, ID: id, Tags: img.Tags}
		err := awsapi.Wait(ctx, awsapi.WaitSpec{
			What:    "snapshot " + id + " to be released by its deregistered image",
			Timeout: time.Minute,
			Check: func(ctx context.Context) (bool, string, error) {
				err := deleteConfirmed(ctx, c, snap, awsapi.DefaultTimeouts().NotFoundGrace, func(ctx context.Context) error {
					_, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
					return err
				})
				if awsapi.ErrorCode(err) == "InvalidSnapshot.InUse" {
					return false, "in use", nil
				}
				return err == nil, "deleted", err
			},
		})
		if err != nil {
			return fmt.Errorf("image deregistered, but its snapshot %s: %w", id, err)
		}
	}
	return nil
}

// Finish tags the kept images and snapshots among rs (a run's resources in
// the journal state kept) imgbuild:complete, whether or not they have the
// tag already (CreateTags overwrites it): a
// build journals its final images as kept (the commit) before it tags them
// (the mirror of the commit for sweeps without the journal), so a crash in
// between leaves committed images that a later tag sweep would remove.
// A journal cleanup calls it to finish the commit. Errors name the
// resources left untagged and their region.
func Finish(ctx context.Context, sess *awsapi.Session, rs []journal.Resource) error {
	var kept []journal.Resource
	for _, r := range rs {
		if r.State == journal.StateKept {
			kept = append(kept, r)
		}
	}
	return MarkComplete(ctx, sess, kept)
}

// MarkComplete tags the images and snapshots among rs imgbuild:complete,
// per region. Errors name the resources left untagged and their region.
func MarkComplete(ctx context.Context, sess *awsapi.Session, rs []journal.Resource) error {
	byRegion := map[string][]string{}
	for _, r := range rs {
		if r.ID != "" && (r.Type == journal.Image || r.Type == journal.Snapshot) {
			byRegion[r.Region] = append(byRegion[r.Region], r.ID)
		}
	}
	tag := []types.Tag{{Key: aws.String(tagComplete), Value: aws.String(time.Now().UTC().Format(time.RFC3339))}}
	var errs []error
	for _, region := range slices.Sorted(maps.Keys(byRegion)) {
		ids := byRegion[region]
		if _, err := sess.EC2(region).CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: tag}); err != nil {
			errs = append(errs, fmt.Errorf("tag kept %v in %s %s: %w", ids, region, tagComplete, err))
		}
	}
	return errors.Join(errs...)
}

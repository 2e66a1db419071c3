package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// finalizeRegion makes the final image of one region and sets what the
// copy did not bring: when the region's image is intermediate it
// deregisters the old image of the same name (force_deregister, its
// snapshots too with force_delete_snapshot) and copies the intermediate
// image to the final name in the region; then it shares the image and its
// snapshots, sets IMDS support and the deprecation time. Cleanup removes
// the final image it made when the build did not succeed.
type finalizeRegion struct {
	b      *build
	region string
	made   *imageRecord // the final image this node created, if any
}

// Run finalises the region's image.
func (n *finalizeRegion) Run(ctx context.Context) error {
	b, region := n.b, n.region
	src := &b.st.built
	if region != b.cfg.Region {
		src = b.st.copies[region]
	}
	final := b.st.finals[region]
	if src.Intermediate {
		if err := n.replace(ctx, src, final); err != nil {
			return err
		}
	} else {
		*final = *src
	}
	if err := n.share(ctx, final); err != nil {
		return err
	}
	return n.lifecycle(ctx, final)
}

// replace deregisters the old image of the final name, then copies the
// intermediate image src to that name in the region, into final.
func (n *finalizeRegion) replace(ctx context.Context, src, final *imageRecord) error {
	b, region := n.b, n.region
	name, desc, err := b.imageNameFor(region)
	if err != nil {
		return err
	}
	if err := n.deregisterOld(ctx, name); err != nil {
		return err
	}
	in := &ec2.CopyImageInput{
		SourceRegion: aws.String(region), SourceImageId: aws.String(src.ID),
		Name: aws.String(name), Description: optional(desc),
		ClientToken: aws.String(clientToken(b.env.RunID, b.env.BuildName, region, "final:"+name)),
	}
	imgTags, snapTags, err := b.tagger().image(region)
	if err != nil {
		return err
	}
	in.TagSpecifications = tagSpecs(imgTags, snapTags)
	if region == b.cfg.Region {
		in.Encrypted, in.KmsKeyId = copyEncryption(b.cfg, region)
	}
	n.made = final
	return b.makeImage(ctx, imageCall{
		what:   fmt.Sprintf("copy %s to its final name %q in %s", src.ID, name, region),
		region: region, name: name, token: aws.ToString(in.ClientToken), tags: imgTags,
		create: func(ctx context.Context) (string, error) {
			out, err := b.ec2(region).CopyImage(ctx, in)
			if err != nil {
				return "", fmt.Errorf("copy %s to its final name %q in %s: %w", src.ID, name, region, err)
			}
			return aws.ToString(out.ImageId), nil
		},
		wait: b.waiter(region).CopyAvailable,
	}, final)
}

// deregisterOld deregisters the account's other images named name in the
// region (and deletes their snapshots with force_delete_snapshot).
func (n *finalizeRegion) deregisterOld(ctx context.Context, name string) error {
	b, region := n.b, n.region
	olds, err := b.ownImagesNamed(ctx, region, name)
	if err != nil || len(olds) == 0 {
		return err
	}
	if !b.cfg.AMIForceDeregister {
		return fmt.Errorf("an image named %q already exists in %s (%s); set force_deregister = true to replace it",
			name, region, aws.ToString(olds[0].ImageId))
	}
	c := b.ec2(region)
	for _, old := range olds {
		id := aws.ToString(old.ImageId)
		if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: old.ImageId}); err != nil && !awsapi.IsGone(err) {
			return fmt.Errorf("deregister old image %s (%q) in %s: %w", id, name, region, err)
		}
		b.say("deregistered old image %s (%q) in %s", id, name, region)
		if !b.cfg.AMIForceDeleteSnapshot {
			continue
		}
		for _, s := range snapshotIDs(old) {
			if _, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(s)}); err != nil && !awsapi.IsGone(err) {
				return fmt.Errorf("delete snapshot %s of old image %s in %s: %w", s, id, region, err)
			}
		}
	}
	return nil
}

// Cleanup removes the final image this node made when the build did not
// succeed.
func (n *finalizeRegion) Cleanup(ctx context.Context) error {
	if n.made == nil || n.b.st.succeeded.Load() {
		return nil
	}
	return n.b.cleanupImage(ctx, n.made)
}

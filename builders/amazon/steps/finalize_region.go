package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// finalizeRegion makes the final image of one region and sets what the
// copy did not bring. When the region's image is intermediate and no
// image has the final name, it copies the intermediate image to the final
// name in the region; when an old image has that name (force_deregister),
// it only records the swap, which join makes once every region's new
// image is available and committed (swap.go): an old image is never
// removed while another region may still fail. Then it shares the final
// image and its snapshots, sets IMDS support and the deprecation time.
// Cleanup removes the final image it made when the build did not succeed.
type finalizeRegion struct {
	b      *build
	region string
	made   *imageRecord // the final image this node created, if any
}

// Run finalises the region's image.
func (n *finalizeRegion) Run(ctx context.Context) error {
	b, region := n.b, n.region
	src := &b.st.built
	if region != b.st.built.Region {
		src = b.st.copies[region]
	}
	final := b.st.finals[region]
	if !src.Intermediate {
		*final = *src
		return n.finish(ctx, final)
	}
	name, _, err := b.imageNameFor(region)
	if err != nil {
		return err
	}
	olds, err := n.oldImages(ctx, name)
	if err != nil {
		return err
	}
	if len(olds) > 0 {
		*b.st.swaps[region] = swap{temp: src, olds: olds}
		b.say("%s: the new image %s replaces %s once every region's image is available", region, src.ID, imageIDs(olds))
		return nil
	}
	if err := n.copyFinal(ctx, src, final); err != nil {
		return err
	}
	return n.finish(ctx, final)
}

// finish shares the final image and sets its lifecycle attributes.
func (n *finalizeRegion) finish(ctx context.Context, final *imageRecord) error {
	if err := n.share(ctx, final); err != nil {
		return err
	}
	return n.lifecycle(ctx, final)
}

// oldImages returns the account's other images named name in the region,
// an error when there are some and force_deregister is not set.
func (n *finalizeRegion) oldImages(ctx context.Context, name string) ([]types.Image, error) {
	olds, err := n.b.ownImagesNamed(ctx, n.region, name)
	if err != nil || len(olds) == 0 {
		return nil, err
	}
	if !n.b.cfg.AMIForceDeregister {
		return nil, fmt.Errorf("an image named %q already exists in %s (%s); set force_deregister = true to replace it",
			name, n.region, aws.ToString(olds[0].ImageId))
	}
	return olds, nil
}

// copyFinal copies the intermediate image src to the final name in the
// region, into final.
func (n *finalizeRegion) copyFinal(ctx context.Context, src, final *imageRecord) error {
	b, region := n.b, n.region
	name, desc, err := b.imageNameFor(region)
	if err != nil {
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
		region: region, name: name, token: aws.ToString(in.ClientToken), tags: imgTags, snapTags: snapTags,
		create: func(ctx context.Context) (string, error) {
			out, err := b.ec2(region).CopyImage(ctx, in)
			if err != nil {
				return "", fmt.Errorf("copy %s to its final name %q in %s: %w", src.ID, name, region, err)
			}
			return aws.ToString(out.ImageId), nil
		},
		copy: true,
	}, final)
}

// deregisterOld deregisters the old images of the region's final name
// (and deletes their snapshots with force_delete_snapshot).
func (n *finalizeRegion) deregisterOld(ctx context.Context, olds []types.Image) error {
	b, region := n.b, n.region
	c := b.ec2(region)
	for _, old := range olds {
		id, name := aws.ToString(old.ImageId), aws.ToString(old.Name)
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

// Cleanup removes the final image this node made when it was not
// committed: the build did not succeed, or join failed to swap it in.
func (n *finalizeRegion) Cleanup(ctx context.Context) error {
	if n.made == nil || n.made.kept || n.b.st.succeeded.Load() {
		return nil
	}
	return n.b.cleanupImage(ctx, n.made)
}

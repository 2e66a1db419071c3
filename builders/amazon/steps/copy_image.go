package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// copyImage copies the build-region image (or, when the build completes
// the regions an existing image lacks, that image) into one region, with
// the destination region's client: idempotent by client token, encrypted
// with that region's key when asked, tagged at creation with tags rendered
// for the region. It journals the copy and its snapshots and waits until
// the copy is available (cancellable). The copy takes a temporary name
// when an image of the final name must be replaced (force_deregister).
// Cleanup removes the copy when the build did not succeed or when it is
// intermediate.
type copyImage struct {
	b      *build
	region string
}

// Run copies the image.
func (n *copyImage) Run(ctx context.Context) error {
	b, region := n.b, n.region
	src := b.st.built.ID
	name, desc, err := b.imageNameFor(region)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, region, err)
	}
	rec := b.st.copies[region]
	if b.cfg.AMIForceDeregister {
		// An old image of the name is replaced only once every region's
		// new image is available: copy under a temporary name meanwhile.
		// Without force_deregister, CopyImage refuses a taken name itself.
		olds, err := b.ownImagesNamed(ctx, region, name)
		if err != nil {
			return fmt.Errorf("copy %s to %s: %w", src, region, err)
		}
		rec.Intermediate = len(olds) > 0
	}
	create := name
	if rec.Intermediate {
		create = intermediateName(name, b.env.RunID)
	}
	in, tags, snapTags, err := n.input(src, create, desc)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, region, err)
	}
	err = b.makeImage(ctx, imageCall{
		what:   fmt.Sprintf("copy %s to %s", src, region),
		region: region, name: create, token: aws.ToString(in.ClientToken), tags: tags, snapTags: snapTags,
		create: func(ctx context.Context) (string, error) {
			out, err := b.ec2(region).CopyImage(ctx, in)
			if err != nil {
				return "", fmt.Errorf("copy %s to %s: %w", src, region, err)
			}
			b.say("copy to %s: %s pending", region, aws.ToString(out.ImageId))
			return aws.ToString(out.ImageId), nil
		},
		copy: true,
	}, rec)
	if err != nil {
		return err
	}
	b.say("copy to %s: %s available", region, rec.ID)
	return nil
}

// input returns the CopyImage request and the copy's image and snapshot
// tags.
func (n *copyImage) input(src, name, desc string) (*ec2.CopyImageInput, map[string]string, map[string]string, error) {
	b, region := n.b, n.region
	imgTags, snapTags, err := b.tagger().image(region)
	if err != nil {
		return nil, nil, nil, err
	}
	in := &ec2.CopyImageInput{
		SourceRegion: aws.String(b.st.built.Region), SourceImageId: aws.String(src),
		Name: aws.String(name), Description: optional(desc),
		ClientToken:       aws.String(clientToken(b.env.RunID, b.env.BuildName, region, "copy:"+name)),
		TagSpecifications: tagSpecs(imgTags, snapTags),
	}
	in.Encrypted, in.KmsKeyId = copyEncryption(b.cfg, region)
	if m := b.cfg.SnapshotCopyDurationMinutes; m > 0 {
		in.SnapshotCopyCompletionDurationMinutes = aws.Int64(int64(m))
	}
	return in, imgTags, snapTags, nil
}

// copyEncryption returns CopyImage's Encrypted and KmsKeyId for region:
// the key of region_kms_key_ids, or kms_key_id in the build region (KMS
// keys are regional); encryption when encrypt_boot is true or a key is
// given. Unset means "as the source".
func copyEncryption(cfg *Config, region string) (*bool, *string) {
	key := cfg.AMIRegionKMSKeyIDs[region]
	if key == "" && region == cfg.Region {
		key = cfg.AMIKmsKeyID
	}
	encrypt := cfg.AMIEncryptBootVolume != nil && *cfg.AMIEncryptBootVolume
	if !encrypt && key == "" {
		return nil, nil
	}
	return aws.Bool(true), optional(key)
}

// Cleanup removes the copy when the build did not succeed or when it was
// only intermediate, unless join committed it (an intermediate copy that
// replaces an old image is committed before the swap, see swap.go).
func (n *copyImage) Cleanup(ctx context.Context) error {
	rec := n.b.st.copies[n.region]
	if rec.kept || n.b.st.succeeded.Load() && !rec.Intermediate {
		return nil
	}
	return n.b.cleanupImage(ctx, rec)
}

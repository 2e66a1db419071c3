package steps

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// registerBundle registers the bundle's manifest as an instance-store
// image in the build region (RegisterImage with ImageLocation), tagged at
// creation, journals it and waits until it is available, like
// createImage; force_deregister works the same way (a temporary name until
// join replaces the old image). Cleanup deregisters it when the build did
// not succeed.
type registerBundle struct{ b *build }

// Run registers the image.
func (n *registerBundle) Run(ctx context.Context) error {
	b, region := n.b, n.b.cfg.Region
	name, create, desc, intermediate, err := b.buildRegionName(ctx)
	if err != nil {
		return err
	}
	imgTags, _, err := b.tagger().image(region)
	if err != nil {
		return fmt.Errorf("register image %q in %s: %w", name, region, err)
	}
	loc := b.st.bundle.manifest
	in := &ec2.RegisterImageInput{
		Name: aws.String(create), Description: optional(desc), ImageLocation: aws.String(loc),
		Architecture:        types.ArchitectureValues(manifestArch(string(b.st.source.Architecture))),
		VirtualizationType:  aws.String(virtualization(b.cfg.AMIVirtType, b.st.source.VirtualizationType)),
		BlockDeviceMappings: mappings(b.cfg.AMIBlockDevices),
		EnaSupport:          b.cfg.AMIENASupport,
		TagSpecifications:   []types.TagSpecification{tagSpec(types.ResourceTypeImage, imgTags)},
	}
	if b.cfg.AMISriovNetSupport {
		in.SriovNetSupport = aws.String("simple")
	}
	rec := &b.st.built
	rec.Intermediate = intermediate
	b.say("registering image %q from s3://%s in %s", create, loc, region)
	err = b.makeImage(ctx, imageCall{
		what:   fmt.Sprintf("register image %q from s3://%s in %s", create, loc, region),
		region: region, name: create, tags: imgTags,
		create: func(ctx context.Context) (string, error) {
			out, err := b.ec2(region).RegisterImage(ctx, in, fewAttempts)
			if err != nil {
				return "", fmt.Errorf("register image %q from s3://%s in %s: %w", create, loc, region, err)
			}
			return aws.ToString(out.ImageId), nil
		},
	}, rec)
	if err != nil {
		return err
	}
	b.say("image %s (%s) available in %s", rec.ID, create, region)
	return nil
}

// virtualization is ami_virtualization_type, or the source's type.
func virtualization(want string, src types.VirtualizationType) string {
	if want != "" {
		return want
	}
	if src == "" {
		return string(types.VirtualizationTypeHvm)
	}
	return string(src)
}

// Cleanup deregisters the image when the build did not succeed or it was
// only intermediate, unless join committed it.
func (n *registerBundle) Cleanup(ctx context.Context) error {
	return n.b.cleanupBuilt(ctx)
}

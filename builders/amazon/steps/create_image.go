package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// createImage creates the image from the (stopped) instance in the build
// region, tagged at creation, journals it and its snapshots, and waits
// until it is available. It creates the image under a temporary name when
// the final image must be made by finalizeRegion (see needsIntermediate).
// Cleanup removes the image when the build did not succeed or when it is
// intermediate.
type createImage struct {
	b *build
}

// Run creates the image.
func (n *createImage) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	if b.cfg.NoReboot {
		if err := b.setInstanceFeatures(ctx); err != nil {
			return err
		}
	}
	name, create, desc, intermediate, err := b.buildRegionName(ctx)
	if err != nil {
		return err
	}
	in, imgTags, snapTags, err := n.input(create, desc)
	if err != nil {
		return fmt.Errorf("create image %q in %s: %w", name, region, err)
	}
	rec := &b.st.built
	rec.Intermediate = intermediate
	b.say("creating image %q from instance %s in %s", create, b.st.instance.ID, region)
	err = b.makeImage(ctx, imageCall{
		what:   fmt.Sprintf("create image %q in %s", create, region),
		region: region, name: create, tags: imgTags, snapTags: snapTags,
		create: func(ctx context.Context) (string, error) { return n.create(ctx, in) },
	}, rec)
	if err != nil {
		return err
	}
	b.say("image %s (%s) available in %s", rec.ID, create, region)
	return nil
}

// create calls CreateImage with the image's and snapshots' tags. A server
// error is never answered by creating the image again without the
// snapshot tags: on AWS a transient 5xx would then leave untagged
// snapshots that no tag sweep finds. makeImage sorts the failure out (a
// 5xx may have taken effect: the create stays pending for the cleanup).
func (n *createImage) create(ctx context.Context, in *ec2.CreateImageInput) (string, error) {
	b, region, name := n.b, n.b.cfg.Region, aws.ToString(in.Name)
	out, err := b.ec2(region).CreateImage(ctx, in, fewAttempts)
	if err != nil {
		return "", fmt.Errorf("create image %q from instance %s in %s: %w", name, b.st.instance.ID, region, err)
	}
	return aws.ToString(out.ImageId), nil
}

// fewAttempts bounds the SDK's retries of CreateImage, which has no client
// token: makeImage adopts an image a lost answer created instead.
func fewAttempts(o *ec2.Options) { o.RetryMaxAttempts = 3 }

// serverError reports whether err is an HTTP 5xx answer.
func serverError(err error) bool {
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() >= 500
}

// input returns the CreateImage request and the image's and snapshots' tags.
func (n *createImage) input(name, desc string) (*ec2.CreateImageInput, map[string]string, map[string]string, error) {
	b := n.b
	imgTags, snapTags, err := b.tagger().image(b.cfg.Region)
	if err != nil {
		return nil, nil, nil, err
	}
	return &ec2.CreateImageInput{
		InstanceId: aws.String(b.st.instance.ID), Name: aws.String(name), Description: optional(desc),
		NoReboot: aws.Bool(b.cfg.NoReboot), BlockDeviceMappings: mappings(b.cfg.AMIBlockDevices),
		TagSpecifications: tagSpecs(imgTags, snapTags),
	}, imgTags, snapTags, nil
}

// buildRegionName renders the image's name and description in the build
// region and returns, with them, the name the image is made under: a
// temporary one when it must be intermediate (needsIntermediate), which
// CreateImage and both RegisterImage steps decide alike.
func (b *build) buildRegionName(ctx context.Context) (name, create, desc string, intermediate bool, err error) {
	if name, desc, err = b.imageNameFor(b.cfg.Region); err != nil {
		return "", "", "", false, err
	}
	if intermediate, err = b.decide(ctx, name); err != nil {
		return "", "", "", false, err
	}
	create = name
	if intermediate {
		create = intermediateName(name, b.env.RunID)
	}
	return name, create, desc, intermediate, nil
}

// decide returns whether the new image must be intermediate, looking for
// an image already named name in the build region when force_deregister
// is to replace it.
func (b *build) decide(ctx context.Context, name string) (bool, error) {
	if b.cfg.AMISkipBuildRegion || !b.cfg.AMIForceDeregister {
		// Without force_deregister, CreateImage refuses a taken name.
		return needsIntermediate(b.cfg, false), nil
	}
	olds, err := b.ownImagesNamed(ctx, b.cfg.Region, name)
	if err != nil {
		return false, err
	}
	return needsIntermediate(b.cfg, len(olds) > 0), nil
}

// needsIntermediate reports whether the image made in the build region is
// only a step towards the final images: the final image is an encrypted
// copy (encrypt_boot), the build region keeps no image
// (skip_save_build_region), or an old image of the same name must be
// replaced only once the new one is available (force_deregister).
func needsIntermediate(cfg *Config, oldExists bool) bool {
	encrypt := cfg.AMIEncryptBootVolume != nil && *cfg.AMIEncryptBootVolume
	return encrypt || cfg.AMISkipBuildRegion || (cfg.AMIForceDeregister && oldExists)
}

// imageNameFor renders ami_name and ami_description for region.
func (b *build) imageNameFor(region string) (name, desc string, err error) {
	d := b.dataFor(region)
	if name, err = interpolate.Render(b.cfg.AMIName, d); err != nil {
		return "", "", fmt.Errorf("ami_name for %s: %w", region, err)
	}
	if desc, err = interpolate.Render(b.cfg.AMIDescription, d); err != nil {
		return "", "", fmt.Errorf("ami_description for %s: %w", region, err)
	}
	return name, desc, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// Cleanup removes the image when the build did not succeed or when it was
// only intermediate, unless join committed it (an intermediate image that
// replaces an old one is committed before the swap, see swap.go).
func (n *createImage) Cleanup(ctx context.Context) error {
	return n.b.cleanupBuilt(ctx)
}

// cleanupBuilt removes the build region's image (created or registered)
// when the build did not succeed or it was only intermediate, unless join
// committed it.
func (b *build) cleanupBuilt(ctx context.Context) error {
	rec := &b.st.built
	if rec.kept || b.st.succeeded.Load() && !rec.Intermediate {
		return nil
	}
	return b.cleanupImage(ctx, rec)
}

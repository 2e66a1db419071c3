package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/datasource/amazonami"
	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// resolveSource finds the source AMI (source_ami or source_ami_filter) in
// the build region, checks it can carry ENA/SR-IOV when asked, and fills
// the placeholder data. It creates nothing.
type resolveSource struct{ b *build }

// Run resolves the source image.
func (n *resolveSource) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	img, err := n.find(ctx)
	if err != nil {
		return err
	}
	id := aws.ToString(img.ImageId)
	if err := checkVirtualization(img, b.cfg.AMIVirtType, b.cfg.AMIENASupport, b.cfg.AMISriovNetSupport); err != nil {
		return fmt.Errorf("source AMI %s in %s: %w", id, region, err)
	}
	out := amazonami.FromImage(img)
	b.st.source = sourceImage{
		ID: id, Name: out.Name, Owner: out.Owner, OwnerName: out.OwnerName,
		CreationDate: out.CreationDate, Tags: out.Tags,
		VirtualizationType: img.VirtualizationType, Mappings: img.BlockDeviceMappings,
		Architecture: img.Architecture, Windows: strings.EqualFold(string(img.Platform), "windows"), // EC2 says "windows"
	}
	tags := out.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	b.st.data = interpolate.Data{
		SourceAMI: id, SourceAMIName: out.Name, SourceAMIOwner: out.Owner, SourceAMIOwnerName: out.OwnerName,
		SourceAMICreationDate: out.CreationDate, SourceAMITags: tags,
		BuildRegion: region, BuildName: b.env.BuildName, BuildType: b.cfg.BuilderType, Now: b.env.Now,
	}
	b.say("source image %s (%s) in %s", id, out.Name, region)
	return nil
}

func (n *resolveSource) find(ctx context.Context) (types.Image, error) {
	b := n.b
	c := b.ec2(b.cfg.Region)
	if b.cfg.SourceAMI != "" {
		return amazonami.Describe(ctx, c, b.cfg.SourceAMI, b.cfg.Region)
	}
	f := b.cfg.SourceAMIFilter
	img, err := amazonami.Find(ctx, c, amazonami.Filter{
		Filters: f.Filters, Owners: f.Owners, MostRecent: f.MostRecent, IncludeDeprecated: f.IncludeDeprecated,
	})
	if err != nil {
		return types.Image{}, fmt.Errorf("source_ami_filter in %s: %w", b.cfg.Region, err)
	}
	return img, nil
}

// checkVirtualization refuses a source whose virtualization type is not
// ami_virtualization_type (want, when set: the image inherits the
// source's), and a non-HVM source when ena_support = true or sriov_support
// is set: only HVM instances support enhanced networking.
func checkVirtualization(img types.Image, want string, ena *bool, sriov bool) error {
	if want != "" && string(img.VirtualizationType) != want {
		return fmt.Errorf("ami_virtualization_type is %q but the source image is %q, and an amazon-ebs image keeps its source's type", want, img.VirtualizationType)
	}
	if (ena == nil || !*ena) && !sriov {
		return nil
	}
	if img.VirtualizationType != types.VirtualizationTypeHvm {
		return fmt.Errorf("ena_support and sriov_support need an HVM source image, this one is %q", img.VirtualizationType)
	}
	return nil
}

package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/datasource/amazonami"
	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// resolveSource finds the source AMI (source_ami, source_ami_filter, or
// the image of the source_build) in
// the build region, checks it can carry ENA/SR-IOV when asked, and fills
// the placeholder data. It creates nothing.
type resolveSource struct{ b *build }

// Run resolves the source image, unless the survey before the run did.
func (n *resolveSource) Run(ctx context.Context) error {
	b := n.b
	if b.st.source.ID == "" {
		if _, err := b.resolve(ctx); err != nil {
			return err
		}
	}
	src := b.st.source
	b.say("source image %s (%s) in %s", src.ID, src.Name, b.cfg.Region)
	return nil
}

// resolve finds the source image and fills the state's source and
// placeholder data.
func (b *build) resolve(ctx context.Context) (string, error) {
	region := b.cfg.Region
	img, err := (&resolveSource{b: b}).find(ctx)
	if err != nil {
		return "", err
	}
	id := aws.ToString(img.ImageId)
	if err := checkVirtualization(img, b.cfg.AMIVirtType, b.cfg.AMIENASupport, b.cfg.AMISriovNetSupport); err != nil {
		return "", fmt.Errorf("source AMI %s in %s: %w", id, region, err)
	}
	b.setSource(img)
	return id, nil
}

// setSource records the source image and the placeholder data it gives.
func (b *build) setSource(img types.Image) {
	out := amazonami.FromImage(img)
	b.st.source = sourceImage{
		ID: aws.ToString(img.ImageId), Name: out.Name, Owner: out.Owner, OwnerName: out.OwnerName,
		CreationDate: out.CreationDate, Tags: out.Tags,
		VirtualizationType: img.VirtualizationType, Mappings: img.BlockDeviceMappings,
		Architecture: img.Architecture, Windows: strings.EqualFold(string(img.Platform), "windows"), // EC2 says "windows"
	}
	tags := out.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	b.st.data = interpolate.Data{
		SourceAMI: b.st.source.ID, SourceAMIName: out.Name, SourceAMIOwner: out.Owner, SourceAMIOwnerName: out.OwnerName,
		SourceAMICreationDate: out.CreationDate, SourceAMITags: tags,
		BuildRegion: b.cfg.Region, BuildName: b.env.BuildName, BuildType: b.cfg.BuilderType, Now: b.env.Now,
	}
}

func (n *resolveSource) find(ctx context.Context) (types.Image, error) {
	b := n.b
	c := b.ec2(b.cfg.Region)
	if b.cfg.SourceBuild != "" {
		if b.env.ParentImage == nil {
			return types.Image{}, fmt.Errorf("source_build %q: that build is not part of this run", b.cfg.SourceBuild)
		}
		id, err := b.env.ParentImage(b.cfg.Region)
		if err != nil {
			return types.Image{}, fmt.Errorf("source_build %q in %s: %w", b.cfg.SourceBuild, b.cfg.Region, err)
		}
		return amazonami.Describe(ctx, c, id, b.cfg.Region)
	}
	if b.cfg.SourceAMI != "" {
		return amazonami.Describe(ctx, c, b.cfg.SourceAMI, b.cfg.Region)
	}
	f := b.cfg.SourceAMIFilter
	filter := amazonami.Filter{Filters: f.Filters, Owners: f.Owners, MostRecent: f.MostRecent, IncludeDeprecated: f.IncludeDeprecated}
	// The builds of a run that share a filter share its answer: one
	// lookup, and the same source image for all of them.
	key, _ := json.Marshal(filter)
	v, _ := sourceLookups.LoadOrStore(lookupKey{b.env.RunID, b.sess.Identity().Account, b.cfg.Region, string(key)}, &sourceLookup{})
	l := v.(*sourceLookup)
	l.once.Do(func() { l.img, l.err = amazonami.Find(ctx, c, filter) })
	if l.err != nil {
		return types.Image{}, fmt.Errorf("source_ami_filter in %s: %w", b.cfg.Region, l.err)
	}
	return l.img, nil
}

// sourceLookups holds the answer to each source_ami_filter per run,
// account and region.
var sourceLookups sync.Map // lookupKey -> *sourceLookup

type lookupKey struct{ run, account, region, filter string }

type sourceLookup struct {
	once sync.Once
	img  types.Image
	err  error
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

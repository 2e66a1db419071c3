package steps

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// The survey before the run (builder.Surveyor): it resolves the source
// and finds the images a fingerprint already has, with Describe calls
// only.

// ResolveSource finds the source image in the build region, unless it is
// another build's image (source_build), which exists only once that build
// made it; it returns "" then.
func (b *build) ResolveSource(ctx context.Context) (string, error) {
	if b.cfg.SourceBuild != "" {
		return "", nil
	}
	return b.resolve(ctx)
}

// FindBuilt returns the newest complete image of the fingerprint in each
// region the build keeps an image in. The images are the account's own,
// available, tagged with the fingerprint and tags.Complete.
func (b *build) FindBuilt(ctx context.Context, fingerprint string) (map[string]builder.Found, error) {
	regions := KeptRegions(&b.cfg.SourceConfig)
	var mu sync.Mutex
	out := make(map[string]builder.Found, len(regions))
	eg, ctx := errgroup.WithContext(ctx)
	for _, region := range regions {
		eg.Go(func() error {
			f, ok, err := b.findBuilt(ctx, region, fingerprint)
			if err != nil || !ok {
				return err
			}
			mu.Lock()
			out[region] = f
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	b.st.existing, b.st.surveyed = out, true
	return out, nil
}

func (b *build) findBuilt(ctx context.Context, region, fingerprint string) (builder.Found, bool, error) {
	var imgs []types.Image
	if !b.st.surveyed {
		// The first look of each build, before the run, shares one
		// listing per region with every build of the run.
		idx, err := b.imageIndex(ctx, region)
		if err != nil {
			return builder.Found{}, false, err
		}
		imgs = idx[fingerprint]
	} else {
		// A second look (after waiting for another runner) asks afresh.
		out, err := b.ec2(region).DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: append(builtFilters(), types.Filter{Name: aws.String("tag:" + tags.Fingerprint), Values: []string{fingerprint}})})
		if err != nil {
			return builder.Found{}, false, fmt.Errorf("look for images of fingerprint %s in %s: %w", fingerprint, region, err)
		}
		imgs = out.Images
	}
	var best builder.Found
	found := false
	for _, img := range imgs {
		// The filters are EC2's; the check is ours, so that an endpoint
		// that ignores a filter can never make a build skip wrongly.
		if tagValue(img.Tags, tags.Fingerprint) != fingerprint || tagValue(img.Tags, tags.Complete) == "" ||
			img.State != types.ImageStateAvailable {
			continue
		}
		created, _ := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
		if found && !created.After(best.Created) {
			continue
		}
		best = builder.Found{Image: artifact.Image{Region: region, ImageID: aws.ToString(img.ImageId), Snapshots: snapshotIDs(img)},
			Created: created}
		found = true
	}
	return best, found, nil
}

// builtFilters select the account's available images that a build
// finished (tags.Complete) and that carry a fingerprint.
func builtFilters() []types.Filter {
	return []types.Filter{
		{Name: aws.String("tag-key"), Values: []string{tags.Fingerprint}},
		{Name: aws.String("tag-key"), Values: []string{tags.Complete}},
		{Name: aws.String("state"), Values: []string{string(types.ImageStateAvailable)}},
	}
}

// indexes holds, per run, account and region, the listing of the
// account's finished images by fingerprint: the survey of 50 builds in 5
// regions makes 5 DescribeImages calls, not 250.
var indexes sync.Map // indexKey -> *imageIndex

type indexKey struct{ run, account, region string }

type imageIndex struct {
	once sync.Once
	byFP map[string][]types.Image
	err  error
}

// imageIndex returns the run's listing of region, made on first use.
func (b *build) imageIndex(ctx context.Context, region string) (map[string][]types.Image, error) {
	v, _ := indexes.LoadOrStore(indexKey{b.env.RunID, b.sess.Identity().Account, region}, &imageIndex{})
	idx := v.(*imageIndex)
	idx.once.Do(func() {
		idx.byFP = map[string][]types.Image{}
		p := ec2.NewDescribeImagesPaginator(b.ec2(region), &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: builtFilters()})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				idx.err = fmt.Errorf("list the account's finished images in %s: %w", region, err)
				return
			}
			for _, img := range out.Images {
				fp := tagValue(img.Tags, tags.Fingerprint)
				idx.byFP[fp] = append(idx.byFP[fp], img)
			}
		}
	})
	return idx.byFP, idx.err
}

// ImageIn returns the build's image in region once it is available there:
// one that existed before the run, the image made in the build region, or
// the copy.
func (b *build) ImageIn(region string) string {
	if f, ok := b.st.existing[region]; ok {
		return f.ImageID
	}
	if region == b.st.built.Region && b.st.built.valid() {
		return b.st.built.ID
	}
	if c := b.st.copies[region]; c.valid() {
		return c.ID
	}
	return ""
}

// KeptRegions returns the regions the build keeps an image in: the build
// region (unless skip_save_build_region) and the target regions.
func KeptRegions(src *amazon.SourceConfig) []string {
	var out []string
	if !src.AMISkipBuildRegion {
		out = append(out, src.Region)
	}
	return append(out, TargetRegions(src)...)
}

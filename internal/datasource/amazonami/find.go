package amazonami

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// DescribeImagesAPI is the part of the EC2 client Find and Describe use.
type DescribeImagesAPI interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// Filter selects AMIs the way Packer's amazon-ami data source and
// source_ami_filter do. Builders map their source_ami_filter or source_ami
// into it.
type Filter struct {
	// Filters are DescribeImages filters by name, e.g. {"name": "ubuntu/*"}.
	Filters map[string]string
	// Owners are account IDs or aliases ("self", "amazon").
	Owners []string
	// MostRecent picks the newest of several matches instead of failing.
	MostRecent bool
	// IncludeDeprecated also considers deprecated AMIs.
	IncludeDeprecated bool
	// ImageIDs restricts the search to these AMI IDs.
	ImageIDs []string
}

// maxListed is how many candidates an ambiguity error lists.
const maxListed = 10

// Find returns the one AMI f selects. It fails when nothing matches, and
// when several match unless f.MostRecent, in which case the newest
// CreationDate wins (ties broken by the larger ID, so the choice is
// deterministic). Errors describe f, never the caller's credentials.
func Find(ctx context.Context, client DescribeImagesAPI, f Filter) (types.Image, error) {
	images, err := describeAll(ctx, client, f.input())
	if err != nil {
		return types.Image{}, fmt.Errorf("describe images matching %s: %w", f, err)
	}
	switch {
	case len(images) == 0:
		return types.Image{}, fmt.Errorf("no AMI matches %s; check the region, the owners and the filter values", f)
	case len(images) == 1:
		return images[0], nil
	case !f.MostRecent:
		return types.Image{}, fmt.Errorf("%d AMIs match %s; narrow the filters or set most_recent = true:\n%s",
			len(images), f, listImages(images))
	}
	return newest(images), nil
}

// Describe returns the AMI with the given ID in the client's region. A
// missing AMI is an error naming id and region.
func Describe(ctx context.Context, client DescribeImagesAPI, id, region string) (types.Image, error) {
	images, err := describeAll(ctx, client, &ec2.DescribeImagesInput{
		ImageIds: []string{id}, IncludeDeprecated: aws.Bool(true),
	})
	if err != nil && !awsapi.IsNotFound(err) {
		return types.Image{}, fmt.Errorf("describe source AMI %s in %s: %w", id, region, err)
	}
	if len(images) == 0 {
		return types.Image{}, fmt.Errorf("source AMI %s not found in %s; check the ID and the region", id, region)
	}
	return images[0], nil
}

// describeAll pages through DescribeImages.
func describeAll(ctx context.Context, client DescribeImagesAPI, in *ec2.DescribeImagesInput) ([]types.Image, error) {
	var images []types.Image
	for {
		out, err := client.DescribeImages(ctx, in)
		if err != nil {
			return nil, err
		}
		images = append(images, out.Images...)
		if aws.ToString(out.NextToken) == "" {
			return images, nil
		}
		next := *in
		next.NextToken = out.NextToken
		in = &next
	}
}

// input builds the DescribeImages request, filters sorted by name.
func (f Filter) input() *ec2.DescribeImagesInput {
	in := &ec2.DescribeImagesInput{
		Owners:            slices.Clone(f.Owners),
		ImageIds:          slices.Clone(f.ImageIDs),
		IncludeDeprecated: aws.Bool(f.IncludeDeprecated),
	}
	for _, name := range slices.Sorted(maps.Keys(f.Filters)) {
		in.Filters = append(in.Filters, types.Filter{Name: aws.String(name), Values: []string{f.Filters[name]}})
	}
	return in
}

// String describes f for error messages: filters sorted, then owners.
func (f Filter) String() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(f.Filters)) {
		parts = append(parts, fmt.Sprintf("%s=%q", name, f.Filters[name]))
	}
	if len(f.ImageIDs) > 0 {
		parts = append(parts, "image IDs "+strings.Join(f.ImageIDs, ", "))
	}
	s := "filters {" + strings.Join(parts, ", ") + "}"
	if len(f.Owners) > 0 {
		s += " with owners [" + strings.Join(f.Owners, ", ") + "]"
	}
	if f.IncludeDeprecated {
		s += " including deprecated AMIs"
	}
	return s
}

// newest returns the image with the latest CreationDate, ties and
// unparsable dates broken by the larger ImageId.
func newest(images []types.Image) types.Image {
	return slices.MaxFunc(images, func(a, b types.Image) int {
		if c := creationTime(a).Compare(creationTime(b)); c != 0 {
			return c
		}
		return strings.Compare(aws.ToString(a.ImageId), aws.ToString(b.ImageId))
	})
}

// creationTime parses an image's CreationDate; an unparsable date sorts
// first.
func creationTime(img types.Image) time.Time {
	t, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
	if err != nil {
		return time.Time{}
	}
	return t
}

// listImages renders up to maxListed candidates, newest first, one a line.
func listImages(images []types.Image) string {
	sorted := slices.Clone(images)
	slices.SortFunc(sorted, func(a, b types.Image) int {
		return creationTime(b).Compare(creationTime(a))
	})
	var b strings.Builder
	for i, img := range sorted {
		if i == maxListed {
			fmt.Fprintf(&b, "  ... and %d more", len(sorted)-maxListed)
			break
		}
		fmt.Fprintf(&b, "  %s  %s  created %s\n", aws.ToString(img.ImageId),
			aws.ToString(img.Name), aws.ToString(img.CreationDate))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// FromImage returns the data source Output for img.
func FromImage(img types.Image) Output {
	o := Output{
		ID:           aws.ToString(img.ImageId),
		Name:         aws.ToString(img.Name),
		CreationDate: aws.ToString(img.CreationDate),
		Owner:        aws.ToString(img.OwnerId),
		OwnerName:    aws.ToString(img.ImageOwnerAlias),
	}
	if len(img.Tags) > 0 {
		o.Tags = make(map[string]string, len(img.Tags))
		for _, t := range img.Tags {
			o.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return o
}

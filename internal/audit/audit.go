// Package audit finds running instances that were not launched from an
// approved image: the "instances not launched from the standard AMIs"
// check AWS recommends. The approved images of a set of recipes are the
// account's own images (Owners=self) tagged imgbuild:recipe with one of
// the recipes' full build names.
package audit

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/internal/tags"
)

// EC2API is the part of the EC2 client an audit uses.
type EC2API interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// Reasons an instance's image is not approved.
const (
	ReasonOtherImage = "not an image of these recipes" // the image exists and is not approved
	ReasonGone       = "image no longer exists"        // deregistered (or not visible to the account)
)

// Finding is one instance not launched from an approved image.
type Finding struct {
	Region     string    `json:"region"`
	InstanceID string    `json:"instance_id"`
	ImageID    string    `json:"image_id"`
	ImageName  string    `json:"image_name,omitempty"`
	LaunchTime time.Time `json:"launch_time"`
	State      string    `json:"state"`
	Reason     string    `json:"reason"`
}

// Report is the outcome of an audit.
type Report struct {
	Recipes []string `json:"recipes"`
	Regions []string `json:"regions"`
	// Approved lists the approved image IDs per region, sorted.
	Approved map[string][]string `json:"approved_images"`
	// Instances are the findings, sorted by region, then launch time,
	// then instance ID.
	Instances []Finding `json:"instances"`
}

// Run audits regions for instances (in any state but terminated) whose
// image is not an approved image of recipes. client returns the EC2
// client of a region. It only reads.
func Run(ctx context.Context, client func(region string) EC2API, regions, recipes []string) (*Report, error) {
	if len(recipes) == 0 {
		return nil, fmt.Errorf("audit: no recipes (the template has no build)")
	}
	rep := &Report{Recipes: sorted(recipes), Regions: sorted(regions), Approved: map[string][]string{}}
	found := make([][]Finding, len(rep.Regions))
	approved := make([][]string, len(rep.Regions))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, region := range rep.Regions {
		g.Go(func() error {
			var err error
			approved[i], found[i], err = auditRegion(ctx, client(region), region, rep.Recipes)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, region := range rep.Regions {
		rep.Approved[region] = approved[i]
		rep.Instances = append(rep.Instances, found[i]...)
	}
	sort.SliceStable(rep.Instances, func(i, j int) bool {
		a, b := rep.Instances[i], rep.Instances[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if !a.LaunchTime.Equal(b.LaunchTime) {
			return a.LaunchTime.Before(b.LaunchTime)
		}
		return a.InstanceID < b.InstanceID
	})
	return rep, nil
}

func auditRegion(ctx context.Context, c EC2API, region string, recipes []string) ([]string, []Finding, error) {
	approved, err := approvedImages(ctx, c, region, recipes)
	if err != nil {
		return nil, nil, err
	}
	var found []Finding
	in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-state-name"),
		Values: []string{"pending", "running", "shutting-down", "stopping", "stopped"}}}}
	p := ec2.NewDescribeInstancesPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list instances in %s: %w", region, err)
		}
		for _, r := range out.Reservations {
			for _, inst := range r.Instances {
				image := aws.ToString(inst.ImageId)
				if slices.Contains(approved, image) || inst.State == nil || inst.State.Name == types.InstanceStateNameTerminated {
					continue
				}
				found = append(found, Finding{Region: region, InstanceID: aws.ToString(inst.InstanceId), ImageID: image,
					LaunchTime: aws.ToTime(inst.LaunchTime).UTC(), State: string(inst.State.Name)})
			}
		}
	}
	if err := describeFound(ctx, c, region, found); err != nil {
		return nil, nil, err
	}
	return approved, found, nil
}

// approvedImages returns the IDs of the account's images in region tagged
// with one of recipes, sorted.
func approvedImages(ctx context.Context, c EC2API, region string, recipes []string) ([]string, error) {
	var ids []string
	for chunk := range slices.Chunk(recipes, 200) { // EC2 takes up to 200 values per filter
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: []types.Filter{{Name: aws.String("tag:" + tags.Recipe), Values: chunk}}})
		if err != nil {
			return nil, fmt.Errorf("list approved images in %s: %w", region, err)
		}
		for _, im := range out.Images {
			ids = append(ids, aws.ToString(im.ImageId))
		}
	}
	return sorted(ids), nil
}

// describeFound fills in the name of each finding's image, or says it no
// longer exists.
func describeFound(ctx context.Context, c EC2API, region string, found []Finding) error {
	var ids []string
	for _, f := range found {
		if !slices.Contains(ids, f.ImageID) {
			ids = append(ids, f.ImageID)
		}
	}
	names := map[string]string{}
	for chunk := range slices.Chunk(ids, 100) {
		// Filter by image-id rather than ImageIds: a deregistered ID is
		// then simply absent instead of failing the whole call.
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{
			Filters: []types.Filter{{Name: aws.String("image-id"), Values: chunk}}})
		if err != nil {
			return fmt.Errorf("describe the images of unapproved instances in %s: %w", region, err)
		}
		for _, im := range out.Images {
			names[aws.ToString(im.ImageId)] = aws.ToString(im.Name)
		}
	}
	for i := range found {
		name, ok := names[found[i].ImageID]
		found[i].ImageName, found[i].Reason = name, ReasonOtherImage
		if !ok {
			found[i].Reason = ReasonGone
		}
	}
	return nil
}

func sorted(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}

// Summary is the one-line outcome ("2 instances in 1 of 2 regions not
// launched from an approved image").
func (r *Report) Summary() string {
	if len(r.Instances) == 0 {
		return fmt.Sprintf("no instance outside the approved images in %s", strings.Join(r.Regions, ", "))
	}
	regions := map[string]bool{}
	for _, f := range r.Instances {
		regions[f.Region] = true
	}
	noun := "instances"
	if len(r.Instances) == 1 {
		noun = "instance"
	}
	return fmt.Sprintf("%d %s in %d of %d regions not launched from an approved image", len(r.Instances), noun, len(regions), len(r.Regions))
}

package retention

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/tags"
)

// lister lists images.
type lister interface {
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// usageReader finds what uses an image.
type usageReader interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
}

// retirer deprecates and deletes images.
type retirer interface {
	EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, opts ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, opts ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, opts ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
}

// recipeImages lists the own complete images of recipe in region, newest
// first by creation date (then by ID, for a stable order).
func recipeImages(ctx context.Context, cl lister, region, recipe string) ([]types.Image, error) {
	in := &ec2.DescribeImagesInput{
		Owners:            []string{"self"},
		IncludeDeprecated: aws.Bool(true),
		Filters: []types.Filter{
			{Name: aws.String("tag:" + tags.Recipe), Values: []string{recipe}},
			{Name: aws.String("tag-key"), Values: []string{tags.Complete}},
		},
	}
	var all []types.Image
	p := ec2.NewDescribeImagesPaginator(cl, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list images of %s in %s: %w", recipe, region, err)
		}
		all = append(all, out.Images...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		ti, tj := creation(all[i]), creation(all[j])
		if !ti.Equal(tj) {
			return ti.After(tj)
		}
		return aws.ToString(all[i].ImageId) > aws.ToString(all[j].ImageId)
	})
	return all, nil
}

func creation(img types.Image) time.Time {
	t, _ := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
	return t
}

// usedImages returns, for each of ids that is in use in region, why: the
// instances (not terminated) launched from it, or the launch templates
// whose default version launches it.
func usedImages(ctx context.Context, cl usageReader, region string, ids []string) (map[string]string, error) {
	users := map[string][]string{}
	in := &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("image-id"), Values: ids},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "shutting-down", "stopping", "stopped"}},
	}}
	p := ec2.NewDescribeInstancesPaginator(cl, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list instances of images %s in %s: %w", strings.Join(ids, ", "), region, err)
		}
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				if i.State != nil && i.State.Name == types.InstanceStateNameTerminated {
					continue
				}
				id := aws.ToString(i.ImageId)
				users[id] = append(users[id], "instance "+aws.ToString(i.InstanceId))
			}
		}
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	lt := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default"}, MaxResults: aws.Int32(200)}
	for {
		out, err := cl.DescribeLaunchTemplateVersions(ctx, lt)
		if err != nil {
			return nil, fmt.Errorf("list launch templates' default versions in %s: %w", region, err)
		}
		for _, v := range out.LaunchTemplateVersions {
			if v.LaunchTemplateData == nil || !want[aws.ToString(v.LaunchTemplateData.ImageId)] {
				continue
			}
			id := aws.ToString(v.LaunchTemplateData.ImageId)
			users[id] = append(users[id], fmt.Sprintf("default version %d of launch template %s (%s)",
				aws.ToInt64(v.VersionNumber), aws.ToString(v.LaunchTemplateName), aws.ToString(v.LaunchTemplateId)))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		lt.NextToken = out.NextToken
	}
	why := map[string]string{}
	for id, u := range users {
		why[id] = "used by " + strings.Join(u, ", ")
	}
	return why, nil
}

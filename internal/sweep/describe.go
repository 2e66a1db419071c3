package sweep

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/tags"
)

// The tags imgbuild puts on everything it creates.
const (
	tagRunID    = tags.RunID
	tagBuild    = tags.Build
	tagComplete = tags.Complete
)

// filter is one EC2 Describe filter.
func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

// tagMap turns EC2 tags into a map.
func tagMap(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// keyPairID returns a key pair's ID, or its name when EC2 gives no ID.
func keyPairID(k types.KeyPairInfo) string {
	if id := aws.ToString(k.KeyPairId); id != "" {
		return id
	}
	return aws.ToString(k.KeyName)
}

// The describe helpers below read every page of a filtered Describe call.

func describeInstances(ctx context.Context, c *ec2.Client, fs []types.Filter) ([]types.Instance, error) {
	var out []types.Instance
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: fs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, nil
}

func describeImages(ctx context.Context, c *ec2.Client, fs []types.Filter) ([]types.Image, error) {
	var out []types.Image
	p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: fs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Images...)
	}
	return out, nil
}

func describeSnapshots(ctx context.Context, c *ec2.Client, fs []types.Filter) ([]types.Snapshot, error) {
	var out []types.Snapshot
	p := ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: fs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Snapshots...)
	}
	return out, nil
}

func describeVolumes(ctx context.Context, c *ec2.Client, fs []types.Filter) ([]types.Volume, error) {
	var out []types.Volume
	p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{Filters: fs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Volumes...)
	}
	return out, nil
}

func describeSecurityGroups(ctx context.Context, c *ec2.Client, fs []types.Filter) ([]types.SecurityGroup, error) {
	var out []types.SecurityGroup
	p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{Filters: fs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.SecurityGroups...)
	}
	return out, nil
}

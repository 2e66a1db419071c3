package localcloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestEventualConsistencyHidesNewIDsFromLists checks that, inside the
// consistency window, filtered Describe calls (by ID filter or by tag)
// answer without the new instance, image or snapshot, as EC2 may, and show
// them once the window has passed: batched waits see them as missing.
func TestEventualConsistencyHidesNewIDsFromLists(t *testing.T) {
	t.Parallel()
	s := fast()
	s.Boot, s.Image = 0, 0
	s.Consistency, s.ConsistencyLists = 2*time.Second, true
	cloud := testenv.LocalCloud(t, s)
	c := client(cloud, "us-east-1", 1)
	ctx := context.Background()
	tag := func(typ types.ResourceType) []types.TagSpecification {
		return []types.TagSpecification{{ResourceType: typ, Tags: []types.Tag{{Key: aws.String("batch"), Value: aws.String("b1")}}}}
	}
	byTag := []types.Filter{{Name: aws.String("tag:batch"), Values: []string{"b1"}}}

	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(linuxAMI(t, c)), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, TagSpecifications: tag(types.ResourceTypeInstance)})
	if err != nil {
		t.Fatal(err)
	}
	inst := aws.ToString(run.Instances[0].InstanceId)
	vol, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId, TagSpecifications: tag(types.ResourceTypeSnapshot)})
	if err != nil {
		t.Fatal(err)
	}
	var img *ec2.CreateImageOutput
	lists := map[string]func() (int, error){
		"instances by instance-id": func() (int, error) {
			return countInstances(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: idFilter("instance-id", inst)}))
		},
		"instances by tag": func() (int, error) {
			return countInstances(c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: byTag}))
		},
		"images by image-id": func() (int, error) {
			out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: idFilter("image-id", aws.ToString(img.ImageId))})
			return lenOr(out, func(o *ec2.DescribeImagesOutput) int { return len(o.Images) }), err
		},
		"images by tag": func() (int, error) {
			out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: byTag})
			return lenOr(out, func(o *ec2.DescribeImagesOutput) int { return len(o.Images) }), err
		},
		"snapshots by snapshot-id": func() (int, error) {
			out, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: idFilter("snapshot-id", aws.ToString(snap.SnapshotId))})
			return lenOr(out, func(o *ec2.DescribeSnapshotsOutput) int { return len(o.Snapshots) }), err
		},
		"snapshots by tag": func() (int, error) {
			out, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: byTag})
			return lenOr(out, func(o *ec2.DescribeSnapshotsOutput) int { return len(o.Snapshots) }), err
		},
	}
	expect := func(when string, want int, names ...string) {
		t.Helper()
		for _, name := range names {
			if n, err := lists[name](); err != nil || n != want {
				t.Errorf("%s %s: %d results (%v), want %d", name, when, n, err, want)
			}
		}
	}
	early := []string{"instances by instance-id", "instances by tag", "snapshots by snapshot-id", "snapshots by tag"}
	expect("inside the consistency window", 0, early...)
	time.Sleep(s.Consistency)
	expect("after the consistency window", 1, early...)

	img, err = c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("consistency-1"),
		TagSpecifications: tag(types.ResourceTypeImage)})
	if err != nil {
		t.Fatal(err)
	}
	expect("inside the consistency window", 0, "images by image-id", "images by tag")
	time.Sleep(s.Consistency)
	expect("after the consistency window", 1, "images by image-id", "images by tag")
}

func idFilter(name, id string) []types.Filter {
	return []types.Filter{{Name: aws.String(name), Values: []string{id}}}
}

func countInstances(out *ec2.DescribeInstancesOutput, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	return n, nil
}

func lenOr[T any](out *T, n func(*T) int) int {
	if out == nil {
		return 0
	}
	return n(out)
}

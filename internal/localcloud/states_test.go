package localcloud_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

func TestInstanceStateProgression(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	c := client(cloud, "us-east-1", 0)
	ctx := context.Background()

	id, st := launch(t, c, "")
	if st != types.InstanceStateNamePending {
		t.Errorf("RunInstances reported %s, want pending", st)
	}
	if st := instanceState(t, c, id); st != types.InstanceStateNamePending {
		t.Errorf("right after launch: %s, want pending", st)
	}
	eventually(t, "running", func() bool { return instanceState(t, c, id) == types.InstanceStateNameRunning })

	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if got := stop.StoppingInstances[0].CurrentState.Name; got != types.InstanceStateNameStopping {
		t.Errorf("StopInstances reported %s, want stopping", got)
	}
	eventually(t, "stopped", func() bool { return instanceState(t, c, id) == types.InstanceStateNameStopped })

	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if st := instanceState(t, c, id); st != types.InstanceStateNamePending {
		t.Errorf("right after start: %s, want pending", st)
	}
	eventually(t, "running again", func() bool { return instanceState(t, c, id) == types.InstanceStateNameRunning })

	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if got := term.TerminatingInstances[0].CurrentState.Name; got != types.InstanceStateNameShuttingDown {
		t.Errorf("TerminateInstances reported %s, want shutting-down", got)
	}
	eventually(t, "terminated", func() bool { return instanceState(t, c, id) == types.InstanceStateNameTerminated })
}

func TestImageStateProgressionTagsAndCopy(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	east, west := client(cloud, "us-east-1", 0), client(cloud, "eu-west-1", 0)
	ctx := context.Background()

	ami := createImage(t, east, "web-1",
		types.TagSpecification{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("recipe"), Value: aws.String("web")}}},
		types.TagSpecification{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("recipe"), Value: aws.String("web-snap")}}})
	if st := imageState(t, east, ami); st != types.ImageStatePending {
		t.Errorf("new image is %s, want pending", st)
	}
	eventually(t, "image available", func() bool { return imageState(t, east, ami) == types.ImageStateAvailable })
	img := describeImage(t, east, ami)
	if img.RootDeviceType != types.DeviceTypeEbs {
		t.Errorf("root device type %q, want ebs", img.RootDeviceType)
	}

	byTag, err := east.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("tag:recipe"), Values: []string{"web"}}}})
	if err != nil || len(byTag.Images) != 1 || *byTag.Images[0].ImageId != ami {
		t.Errorf("DescribeImages by tag: %v, %+v", err, byTag)
	}
	snap := *img.BlockDeviceMappings[0].Ebs.SnapshotId
	snaps, err := east.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
	if err != nil || len(snaps.Snapshots) != 1 || !hasTag(snaps.Snapshots[0].Tags, "recipe", "web-snap") {
		t.Errorf("snapshot tags from CreateImage: %v, %+v", err, snaps)
	}

	copyIn := &ec2.CopyImageInput{
		SourceImageId: aws.String(ami), SourceRegion: aws.String("us-east-1"), Name: aws.String("web-1"),
		ClientToken: aws.String("copy-web-1"), CopyImageTags: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("copied"), Value: aws.String("yes")}}}},
	}
	cp, err := west.CopyImage(ctx, copyIn)
	if err != nil {
		t.Fatal(err)
	}
	again, err := west.CopyImage(ctx, copyIn)
	if err != nil || *again.ImageId != *cp.ImageId {
		t.Errorf("CopyImage with the same ClientToken made %v (%v), want %s", again, err, *cp.ImageId)
	}
	if st := imageState(t, west, *cp.ImageId); st != types.ImageStatePending {
		t.Errorf("copy is %s, want pending", st)
	}
	eventually(t, "copy available", func() bool { return imageState(t, west, *cp.ImageId) == types.ImageStateAvailable })
	tags := describeImage(t, west, *cp.ImageId).Tags
	if !hasTag(tags, "copied", "yes") || !hasTag(tags, "recipe", "web") {
		t.Errorf("copy tags %v: want copied=yes and recipe=web", tags)
	}
}

func TestInjectedImageFailure(t *testing.T) {
	t.Parallel()
	s := fast()
	s.FailImages = "*-broken"
	cloud := testenv.LocalCloud(t, s)
	c := client(cloud, "us-east-1", 0)
	ami := createImage(t, c, "app-broken")
	if st := imageState(t, c, ami); st != types.ImageStatePending {
		t.Errorf("new image is %s, want pending", st)
	}
	eventually(t, "image failed", func() bool { return imageState(t, c, ami) == types.ImageStateFailed })
	img := describeImage(t, c, ami)
	if img.StateReason == nil || aws.ToString(img.StateReason.Code) == "" || aws.ToString(img.StateReason.Message) == "" {
		t.Errorf("failed image has no StateReason: %+v", img.StateReason)
	}
}

func hasTag(tags []types.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

package sweep

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// youngCloud starts a local cloud whose new instance, image and snapshot
// IDs answer Invalid*.NotFound for window, and returns a session on it.
func youngCloud(t *testing.T, window time.Duration) *awsapi.Session {
	t.Helper()
	testenv.Require(t, testenv.Moto)
	s, err := localcloud.ProfileSettings(localcloud.Instant)
	if err != nil {
		t.Fatal(err)
	}
	s.SSH, s.Consistency = false, window
	cloud := testenv.LocalCloud(t, s)
	for _, kv := range cloud.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	sess, err := awsapi.NewSession(context.Background(), awsapi.Access{Region: localcloud.Region, SkipCredentialValidation: true})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// launch starts an instance tagged with run.
func launch(t *testing.T, c *ec2.Client, run string) string {
	t.Helper()
	ctx := context.Background()
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("no source image: %v", err)
	}
	out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String(tagRunID), Value: aws.String(run)}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// TestDeleteYoungResources deletes an instance and an image (with its
// snapshots) right after creating them, while EC2 still answers NotFound
// to calls naming their IDs: Delete must not take that for "gone", but
// remove them once they are visible. An ID that never existed is gone.
func TestDeleteYoungResources(t *testing.T) {
	const window = 3 * time.Second
	sess := youngCloud(t, window)
	ctx := context.Background()
	c := sess.EC2(localcloud.Region)
	run := map[string]string{tagRunID: "run-young"}

	young := launch(t, c, "run-young")
	if err := Delete(ctx, sess, journal.Resource{Type: journal.Instance, Region: localcloud.Region, ID: young, Tags: run}); err != nil {
		t.Fatalf("delete young instance: %v", err)
	}
	if state := instanceState(t, c, young); state != types.InstanceStateNameTerminated && state != types.InstanceStateNameShuttingDown {
		t.Errorf("young instance %s is %s after Delete, want terminated", young, state)
	}

	source := launch(t, c, "run-young")
	time.Sleep(window) // CreateImage must see the instance
	img, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(source), Name: aws.String("young"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage,
			Tags: []types.Tag{{Key: aws.String(tagRunID), Value: aws.String("run-young")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(img.ImageId)
	listedImgs, err := describeImages(ctx, c, []types.Filter{filter("image-id", id)}) // lists see young IDs
	if err != nil || len(listedImgs) != 1 || len(imageSnapshots(listedImgs[0])) == 0 {
		t.Fatalf("list image %s: %+v, %v", id, listedImgs, err)
	}
	snapIDs := imageSnapshots(listedImgs[0])
	if err := Delete(ctx, sess, journal.Resource{Type: journal.Image, Region: localcloud.Region, ID: id, Tags: run}); err != nil {
		t.Fatalf("delete young image: %v", err)
	}
	left, err := describeImages(ctx, c, []types.Filter{filter("image-id", id)})
	if err != nil || len(left) > 0 {
		t.Errorf("young image %s left after Delete: %d, %v", id, len(left), err)
	}
	snaps, err := describeSnapshots(ctx, c, []types.Filter{filter("snapshot-id", snapIDs...)})
	if err != nil || len(snaps) > 0 {
		t.Errorf("snapshots of young image %s left after Delete: %d, %v", id, len(snaps), err)
	}

	start := time.Now()
	if err := Delete(ctx, sess, journal.Resource{Type: journal.Snapshot, Region: localcloud.Region, ID: "snap-0123456789abcdef0", Tags: run}); err != nil {
		t.Errorf("delete a snapshot that does not exist: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("deleting a snapshot that does not exist took %s: the filtered describe should confirm it at once", d)
	}
	_ = Delete(ctx, sess, journal.Resource{Type: journal.Instance, Region: localcloud.Region, ID: source, Tags: run})
}

func instanceState(t *testing.T, c *ec2.Client, id string) types.InstanceStateName {
	t.Helper()
	insts, err := describeInstances(context.Background(), c, []types.Filter{filter("instance-id", id)})
	if err != nil || len(insts) != 1 {
		t.Fatalf("describe %s: %d instances, %v", id, len(insts), err)
	}
	return insts[0].State.Name
}

package localcloud_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestSnapshotProgress checks that the snapshots of an image being made
// (CreateImage, and a CopyImage in its destination region) are pending with
// a progress that grows with elapsed time while the image is pending, and
// completed at 100% once it is available.
func TestSnapshotProgress(t *testing.T) {
	t.Parallel()
	s := fast()
	// Long enough that a busy machine (make test runs packages and tests
	// in parallel, each describe can take a second) still sees the
	// progress at least twice while pending.
	s.Boot, s.Image, s.Copy = 0, 8*time.Second, 8*time.Second
	cloud := testenv.LocalCloud(t, s)
	east, west := client(cloud, "us-east-1", 0), client(cloud, "eu-west-1", 0)
	ami := createImage(t, east, "progress-1")
	followProgress(t, east, ami)

	cp, err := west.CopyImage(context.Background(), &ec2.CopyImageInput{SourceImageId: aws.String(ami), SourceRegion: aws.String("us-east-1"), Name: aws.String("progress-1-copy")})
	if err != nil {
		t.Fatal(err)
	}
	followProgress(t, west, aws.ToString(cp.ImageId))
}

// followProgress polls a pending image's snapshot until the image is
// available and checks what it saw.
func followProgress(t *testing.T, c *ec2.Client, ami string) {
	t.Helper()
	img := describeImage(t, c, ami)
	if img.State != types.ImageStatePending || len(img.BlockDeviceMappings) == 0 {
		t.Fatalf("image %s: %s with %d block devices, want pending with a snapshot", ami, img.State, len(img.BlockDeviceMappings))
	}
	snap := aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId)
	var seen []int
	for imageState(t, c, ami) == types.ImageStatePending {
		st, pct := snapshotProgress(t, c, snap)
		if imageState(t, c, ami) != types.ImageStatePending {
			break // the image became available meanwhile
		}
		if st != types.SnapshotStatePending || pct >= 100 {
			t.Fatalf("snapshot %s of pending image %s: %s %d%%, want pending below 100%%", snap, ami, st, pct)
		}
		if len(seen) > 0 && pct < seen[len(seen)-1] {
			t.Fatalf("snapshot %s progress went back: %v then %d%%", snap, seen, pct)
		}
		seen = append(seen, pct)
		time.Sleep(300 * time.Millisecond)
	}
	if len(seen) < 2 || seen[len(seen)-1] <= seen[0] {
		t.Errorf("snapshot %s progress while pending: %v, want it to grow", snap, seen)
	}
	if st, pct := snapshotProgress(t, c, snap); st != types.SnapshotStateCompleted || pct != 100 {
		t.Errorf("snapshot %s of available image %s: %s %d%%, want completed 100%%", snap, ami, st, pct)
	}
}

// snapshotProgress returns a snapshot's state and progress, asked by a
// snapshot-id filter as batched waits ask.
func snapshotProgress(t *testing.T, c *ec2.Client, id string) (types.SnapshotState, int) {
	t.Helper()
	out, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{Filters: idFilter("snapshot-id", id)})
	if err != nil || len(out.Snapshots) != 1 {
		t.Fatalf("describe snapshot %s: %v", id, err)
	}
	pct, err := strconv.Atoi(strings.TrimSuffix(aws.ToString(out.Snapshots[0].Progress), "%"))
	if err != nil {
		t.Fatalf("snapshot %s progress %q: %v", id, aws.ToString(out.Snapshots[0].Progress), err)
	}
	return out.Snapshots[0].State, pct
}

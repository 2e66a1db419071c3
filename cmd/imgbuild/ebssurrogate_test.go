package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestEBSSurrogateExampleBoots builds examples/ebssurrogate unchanged: the
// provisioner writes onto the surrogate's extra volume, and the image is
// registered from that volume's snapshot (root device /dev/xvda, type
// ebs), copied to eu-west-1; an instance of the copy boots the volume's
// content, and the run leaves nothing but its images and snapshots.
func TestEBSSurrogateExampleBoots(t *testing.T) {
	e := newE2E(t, "instant")
	// Check every second instead of after the first couple of seconds:
	// the instant cloud is done at once.
	e.env = append(e.env, "AWS_POLL_DELAY_SECONDS=1")
	if out, err := exec.Command("cp", "-r", "../../examples/ebssurrogate/.", e.dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the example: %v %s", err, out)
	}
	cmd := e.command("build", "scratch.pkr.hcl")
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	runID := runIDFrom(t, string(out))
	images := map[string]string{}
	var snaps []string
	for _, im := range e.manifest("manifest.json").Builds[0].Images {
		images[im.Region] = im.ImageID
		if im.Region == "us-east-1" {
			snaps = im.Snapshots
		}
	}
	if len(images) != 2 || len(snaps) != 1 {
		t.Fatalf("manifest images %v, snapshots in us-east-1 %v; want us-east-1 and eu-west-1, one snapshot", images, snaps)
	}
	for region, id := range images {
		img := describeImageIn(t, e.ec2(region), id)
		root := img.BlockDeviceMappings[0]
		if aws.ToString(img.RootDeviceName) != "/dev/xvda" || img.RootDeviceType != types.DeviceTypeEbs ||
			len(img.BlockDeviceMappings) != 1 || aws.ToString(root.DeviceName) != "/dev/xvda" || !aws.ToBool(img.EnaSupport) {
			t.Errorf("%s: image %s: root %s (%s), mappings %+v, ena %v", region, id, aws.ToString(img.RootDeviceName),
				img.RootDeviceType, img.BlockDeviceMappings, aws.ToBool(img.EnaSupport))
		}
		if region == "us-east-1" && aws.ToString(root.Ebs.SnapshotId) != snaps[0] {
			t.Errorf("the registered image boots %s, not the volume's snapshot %s", aws.ToString(root.Ebs.SnapshotId), snaps[0])
		}
	}
	snap, err := e.ec2("us-east-1").DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{SnapshotIds: snaps})
	e.must(err)
	if s := snap.Snapshots[0]; !strings.Contains(aws.ToString(s.Description), "/dev/xvdf") || tagMap(s.Tags)["Name"] != "scratch root" {
		t.Errorf("root snapshot %s: description %q, tags %v; want the /dev/xvdf volume's, with snapshot_tags",
			snaps[0], aws.ToString(s.Description), tagMap(s.Tags))
	}
	conn := e.boot("eu-west-1", images["eu-west-1"], "")
	if got := sshOutput(t, conn, "cat /etc/scratch-release"); got != "built on a surrogate volume by imgbuild\n" {
		t.Errorf("/etc/scratch-release on an instance of the copy: %q", got)
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		for _, left := range e.runResources(region, runID) {
			if !strings.HasSuffix(left, "(complete)") {
				t.Errorf("%s: left behind: %s", region, left)
			}
		}
	}
}

func describeImageIn(t *testing.T, c *ec2.Client, id string) types.Image {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("describe image %s in %s: %v", id, c.Options().Region, err)
	}
	return out.Images[0]
}

package ebs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/tags"
)

var allRegions = []string{"us-east-1", "eu-west-1", "us-west-2"}

const protect = "  deregistration_protection {\n    enabled = true\n  }"

// templateText is an amazon-ebs build in us-east-1 copied to eu-west-1 and
// us-west-2, with one shell provisioner and extra settings.
func templateText(name, extra string) string {
	return fmt.Sprintf(`
source "amazon-ebs" "web" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  source_ami_filter {
    filters     = { name = "amzn*" }
    owners      = ["amazon"]
    most_recent = true
  }
  ami_name      = "%s-{{ .BuildRegion }}"
  ami_regions   = ["eu-west-1", "us-west-2"]
  ami_users     = ["123456789012"]
  deprecate_at  = "2035-01-02T03:04:00Z"
%s
  tags          = { Base = "{{ .SourceAMIName }}", Region = "{{ .BuildRegion }}" }
  snapshot_tags = { Kind = "snapshot" }
  run_tags      = { Team = "images" }
}

build {
  sources = ["source.amazon-ebs.web"]
  provisioner "shell" {
    inline = ["echo hi > f"]
  }
}
`, name, extra)
}

// TestBuildLocalCloud runs a whole build with SSH against the local cloud
// and checks the images in every region, their tags, sharing and
// lifecycle settings, and that nothing temporary is left.
func TestBuildLocalCloud(t *testing.T) {
	cloud := startCloud(t, "")
	w := walkTemplate(t, templateText("web", protect))
	if err := w.result.Err(); err != nil {
		t.Fatalf("walk: %v", err)
	}
	if len(w.result.Leftover) > 0 {
		t.Errorf("leftover cleanups: %v", w.result.Leftover)
	}
	a := w.build.Artifact()
	if len(a.Images) != 3 || a.BuilderType != "amazon-ebs" || a.Source.ImageID == "" {
		t.Fatalf("artifact %+v", a)
	}
	ctx := context.Background()
	for _, im := range a.Images {
		img := describeImage(t, ec2In(cloud, im.Region), im.ImageID)
		checkImage(t, img, im.Region, w)
		checkSnapshots(t, ec2In(cloud, im.Region), im.Snapshots, w.runID)
		perms, err := ec2In(cloud, im.Region).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
			ImageId: aws.String(im.ImageID), Attribute: types.ImageAttributeNameLaunchPermission})
		if err != nil || len(perms.LaunchPermissions) != 1 || aws.ToString(perms.LaunchPermissions[0].UserId) != "123456789012" {
			t.Errorf("%s: launch permissions %+v, %v", im.Region, perms, err)
		}
	}
	assertNothingTemporary(t, cloud, w.runID)
	if left := w.run.Leftovers(); len(left) > 0 {
		t.Errorf("journal leftovers: %+v", left)
	}
}

func checkImage(t *testing.T, img types.Image, region string, w walked) {
	t.Helper()
	want := map[string]string{
		"Base": w.build.Data().SourceAMIName, "Region": region, "Team": "images",
		tags.RunID: w.runID, tags.Build: w.buildName,
	}
	got := tagMap(img.Tags)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: image tag %s = %q, want %q (tags %v)", region, k, got[k], v, got)
		}
	}
	if got[tags.Complete] == "" || got[tags.Temporary] != "" {
		t.Errorf("%s: image tags %v: want %s and no %s", region, got, tags.Complete, tags.Temporary)
	}
	if aws.ToString(img.Name) != "web-"+region {
		t.Errorf("%s: image name %q", region, aws.ToString(img.Name))
	}
	if !strings.HasPrefix(aws.ToString(img.DeprecationTime), "2035-01-02T03:04") {
		t.Errorf("%s: deprecation time %q", region, aws.ToString(img.DeprecationTime))
	}
	if p := aws.ToString(img.DeregistrationProtection); !strings.HasPrefix(p, "enabled") {
		t.Errorf("%s: deregistration protection %q", region, p)
	}
}

func checkSnapshots(t *testing.T, c *ec2.Client, ids []string, runID string) {
	t.Helper()
	if len(ids) == 0 {
		t.Fatalf("%s: image without snapshots", c.Options().Region)
	}
	out, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{SnapshotIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Snapshots {
		got := tagMap(s.Tags)
		if got["Kind"] != "snapshot" || got["Team"] != "images" || got[tags.RunID] != runID || got[tags.Complete] == "" {
			t.Errorf("%s: snapshot %s tags %v", c.Options().Region, aws.ToString(s.SnapshotId), got)
		}
	}
}

// TestImageFails makes the build-region image fail: the walk fails naming
// the region, and cleanup leaves nothing in any region.
func TestImageFails(t *testing.T) {
	cloud := startCloud(t, "broken-us-east-1")
	w := walkTemplate(t, templateText("broken", protect))
	checkFailed(t, w, "in us-east-1")
	assertNothingLeft(t, cloud, w)
}

// TestCopyFails makes the copy to us-west-2 fail while the other regions
// succeed: the walk fails naming the region, and cleanup removes the
// images and snapshots already made in every region.
func TestCopyFails(t *testing.T) {
	cloud := startCloud(t, "flaky-us-west-2")
	w := walkTemplate(t, templateText("flaky", protect))
	checkFailed(t, w, "in us-west-2")
	assertNothingLeft(t, cloud, w)
}

func checkFailed(t *testing.T, w walked, want string) {
	t.Helper()
	err := w.result.Err()
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("walk error %v, want one containing %q", err, want)
	}
	t.Logf("walk error: %v", err)
	for _, o := range w.result.Outcomes {
		if o.CleanupErr != nil {
			t.Errorf("cleanup of %s: %v", o.ID, o.CleanupErr)
		}
	}
	if w.build.Artifact().Images != nil {
		t.Errorf("failed build has images: %+v", w.build.Artifact().Images)
	}
}

// assertNothingLeft checks that no image or snapshot of the run exists in
// any region, that nothing temporary is left and that the journal has no
// leftovers.
func assertNothingLeft(t *testing.T, cloud *localcloud.Cloud, w walked) {
	t.Helper()
	runID := w.runID
	filter := []types.Filter{{Name: aws.String("tag:" + tags.RunID), Values: []string{runID}}}
	for _, region := range allRegions {
		c := ec2In(cloud, region)
		images, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: filter})
		if err != nil || len(images.Images) > 0 {
			t.Errorf("%s: images left %v, %v", region, imageIDs(images), err)
		}
		snaps, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: filter})
		if err != nil || len(snaps.Snapshots) > 0 {
			t.Errorf("%s: snapshots left %+v, %v", region, snaps, err)
		}
	}
	assertNothingTemporary(t, cloud, runID)
	if left := w.run.Leftovers(); len(left) > 0 {
		t.Errorf("journal leftovers: %+v", left)
	}
}

// assertNothingTemporary checks that the run left no running instance,
// key pair or security group.
func assertNothingTemporary(t *testing.T, cloud *localcloud.Cloud, runID string) {
	t.Helper()
	ctx := context.Background()
	filter := []types.Filter{{Name: aws.String("tag:" + tags.RunID), Values: []string{runID}}}
	c := ec2In(cloud, localcloud.Region)
	inst, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range inst.Reservations {
		for _, i := range r.Instances {
			if i.State == nil || i.State.Name != types.InstanceStateNameTerminated {
				t.Errorf("instance %s left %v", aws.ToString(i.InstanceId), i.State)
			}
		}
	}
	keys, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: filter})
	if err != nil || len(keys.KeyPairs) > 0 {
		t.Errorf("key pairs left: %+v, %v", keys, err)
	}
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: filter})
	if err != nil || len(groups.SecurityGroups) > 0 {
		t.Errorf("security groups left: %+v, %v", groups, err)
	}
}

func describeImage(t *testing.T, c *ec2.Client, id string) types.Image {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("describe %s in %s: %v", id, c.Options().Region, err)
	}
	return out.Images[0]
}

func tagMap(set []types.Tag) map[string]string {
	m := map[string]string{}
	for _, tg := range set {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func imageIDs(out *ec2.DescribeImagesOutput) []string {
	if out == nil {
		return nil
	}
	var ids []string
	for _, img := range out.Images {
		ids = append(ids, aws.ToString(img.ImageId))
	}
	return slices.Sorted(slices.Values(ids))
}

// TestForceDeregisterReplaces builds the same image name twice with
// force_deregister: the second build replaces the first image in every
// region through an intermediate image, and leaves no intermediate image.
func TestForceDeregisterReplaces(t *testing.T) {
	cloud := startCloud(t, "")
	text := templateText("twice", "  force_deregister = true\n  force_delete_snapshot = true")
	first := walkTemplate(t, text)
	if err := first.result.Err(); err != nil {
		t.Fatalf("first walk: %v", err)
	}
	second := walkTemplate(t, text)
	if err := second.result.Err(); err != nil {
		t.Fatalf("second walk: %v", err)
	}
	old, replaced := first.build.Artifact().ImageIDs(), second.build.Artifact().ImageIDs()
	for _, region := range allRegions {
		out, err := ec2In(cloud, region).DescribeImages(context.Background(), &ec2.DescribeImagesInput{
			Owners: []string{"self"}, Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"twice-*"}}}})
		if err != nil {
			t.Fatal(err)
		}
		if ids := imageIDs(out); len(ids) != 1 || ids[0] != replaced[region] || ids[0] == old[region] {
			t.Errorf("%s: images named twice-* %v; want only %s (replacing %s)", region, ids, replaced[region], old[region])
		}
	}
	if left := second.run.Leftovers(); len(left) > 0 {
		t.Errorf("journal leftovers: %+v", left)
	}
}

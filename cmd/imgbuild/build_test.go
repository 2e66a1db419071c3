package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// e2eTemplate is a Linux build provisioned over SSH, copied to two
// regions, shared, deprecated and protected. %s slots: ami_name prefix,
// the provisioner's inline commands.
const e2eTemplate = `
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.8.0"
    }
  }
}

source "amazon-ebs" "al" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "%s-{{timestamp}}"
  ami_regions   = ["eu-west-1", "ap-southeast-2"]
  ami_users     = ["123456789012"]
  deprecate_at  = "2030-01-01T00:00:00Z"
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*-x86_64-gp2"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  deregistration_protection {
    enabled = true
  }
  tags = {
    Name          = "e2e"
    SourceAMIName = "{{ .SourceAMIName }}"
    Region        = "{{ .BuildRegion }}"
  }
  snapshot_tags = {
    Kind = "root"
  }
}

build {
  name    = "e2e"
  sources = ["source.amazon-ebs.al"]

  provisioner "file" {
    content     = "written over sftp"
    destination = "uploaded.txt"
  }
  provisioner "shell" {
    inline = [%s]
  }
  post-processor "manifest" {
    output = "manifest.json"
    custom_data = {
      source = "{{ .SourceAMIName }}"
    }
  }
}
`

var e2eRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

func e2eFiles(prefix, inline string) map[string]string {
	return map[string]string{"main.pkr.hcl": fmt.Sprintf(e2eTemplate, prefix, inline)}
}

func TestBuildEndToEnd(t *testing.T) {
	e := newE2E(t, "realistic")
	e.write(e2eFiles("e2e", `"echo provisioned-$(id -un) > proof.txt", "cat proof.txt uploaded.txt"`))
	code, out, errOut := e.imgbuild("build", e.dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"==> e2e.amazon-ebs.al: launch t3.micro instance",
		"    e2e.amazon-ebs.al: provisioned-",
		"    e2e.amazon-ebs.al: written over sftp",
		"--> e2e.amazon-ebs.al: succeeded",
		// progress of the image and each copy, as plain lines (not a terminal)
		"==> e2e.amazon-ebs.al: image in us-east-1: 100%",
		"==> e2e.amazon-ebs.al: copy to eu-west-1: 100%",
		"==> e2e.amazon-ebs.al: copy to ap-southeast-2: 100%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	runID := runIDFrom(t, out)
	m := e.manifest("manifest.json")
	if len(m.Builds) != 1 || m.Builds[0].RunUUID != runID || m.LastRunUUID != runID {
		t.Fatalf("manifest builds/run IDs wrong: %+v", m)
	}
	b := m.Builds[0]
	if len(b.Images) != 3 || strings.Count(b.ArtifactID, ":ami-") != 3 {
		t.Fatalf("manifest should list 3 regional images: %+v", b)
	}
	if !strings.HasPrefix(b.CustomData["source"], "amzn2-ami-hvm-") {
		t.Errorf("custom_data placeholder not rendered: %q", b.CustomData["source"])
	}
	for _, im := range b.Images {
		e.checkFinalImage(im.Region, im.ImageID, runID)
	}
	for _, r := range e2eRegions {
		for _, left := range e.runResources(r, runID) {
			if !strings.HasPrefix(left, "image ") && !strings.HasPrefix(left, "snapshot ") {
				t.Errorf("%s: left behind: %s", r, left)
			}
		}
	}
}

// checkFinalImage asserts what a finished image looks like in one region.
func (e *e2e) checkFinalImage(region, id, runID string) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	c := e.ec2(region)
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	e.must(err)
	if len(out.Images) != 1 {
		t.Fatalf("%s: image %s not found", region, id)
	}
	im := out.Images[0]
	tags := tagMap(im.Tags)
	if im.State != types.ImageStateAvailable {
		t.Errorf("%s: %s is %s", region, id, im.State)
	}
	if !strings.HasPrefix(tags["SourceAMIName"], "amzn2-ami-hvm-") || tags["Region"] != region ||
		tags["imgbuild:run-id"] != runID || tags["imgbuild:complete"] == "" || tags["Name"] != "e2e" {
		t.Errorf("%s: image tags wrong: %v", region, tags)
	}
	if aws.ToString(im.DeprecationTime) == "" {
		t.Errorf("%s: no deprecation time", region)
	}
	if !strings.HasPrefix(aws.ToString(im.DeregistrationProtection), "enabled") {
		t.Errorf("%s: deregistration protection = %q", region, aws.ToString(im.DeregistrationProtection))
	}
	attr, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: aws.String(id), Attribute: types.ImageAttributeNameLaunchPermission})
	e.must(err)
	var users []string
	for _, p := range attr.LaunchPermissions {
		users = append(users, aws.ToString(p.UserId))
	}
	if !slices.Contains(users, "123456789012") {
		t.Errorf("%s: launch permissions %v", region, users)
	}
	for _, bdm := range im.BlockDeviceMappings {
		if bdm.Ebs == nil || bdm.Ebs.SnapshotId == nil {
			continue
		}
		snaps, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{*bdm.Ebs.SnapshotId}})
		e.must(err)
		for _, s := range snaps.Snapshots {
			st := tagMap(s.Tags)
			if st["Kind"] != "root" || st["imgbuild:run-id"] != runID {
				t.Errorf("%s: snapshot %s tags wrong: %v", region, aws.ToString(s.SnapshotId), st)
			}
		}
	}
}

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestBuildFailuresLeaveNothing: a failing provisioner, an image that goes
// failed, and a copy that fails in one region each fail the build with a
// message naming what failed, and leave nothing behind in any region.
func TestBuildFailuresLeaveNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sets   []string
		prefix string
		inline string
		want   []string
	}{
		{"provisioner exits non-zero", nil, "prov", `"echo about to fail", "exit 7"`,
			[]string{"about to fail", "status 7", "failed"}},
		{"image goes failed", []string{"fail-images=broken-*"}, "broken", `"true"`,
			[]string{"us-east-1", "injected image failure"}},
		{"copy fails in one region", []string{"fail-images=eu-west-1/*"}, "copyfail", `"true"`,
			[]string{"eu-west-1", "injected image failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t, "instant", tt.sets...)
			e.write(e2eFiles(tt.prefix, tt.inline))
			code, out, errOut := e.imgbuild("build", e.dir)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
			}
			for _, want := range tt.want {
				if !strings.Contains(out+errOut, want) {
					t.Errorf("output lacks %q:\n%s\n%s", want, out, errOut)
				}
			}
			if !strings.Contains(out, "everything the build created was removed") {
				t.Errorf("summary does not say the build's resources were removed:\n%s", out)
			}
			runID := runIDFrom(t, out)
			for _, r := range e2eRegions {
				if left := e.runResources(r, runID); len(left) > 0 {
					t.Errorf("%s: left behind: %v", r, left)
				}
			}
		})
	}
}

// TestBuildHostile: the full pipeline succeeds under throttling, 5xx
// errors and eventual consistency, without duplicates or orphans.
func TestBuildHostile(t *testing.T) {
	e := newE2E(t, "hostile")
	e.write(e2eFiles("hostile", `"echo survived"`))
	code, out, errOut := e.imgbuild("build", e.dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	runID := runIDFrom(t, out)
	m := e.manifest("manifest.json")
	for _, r := range e2eRegions {
		var images int
		for _, left := range e.runImages(r, runID) {
			if strings.HasPrefix(left, "image ") {
				images++
			}
		}
		if images != 1 {
			t.Errorf("%s: %d images with the run tag, want exactly 1 (no duplicates)", r, images)
		}
		for _, left := range e.runResources(r, runID) {
			if !strings.HasPrefix(left, "image ") && !strings.HasPrefix(left, "snapshot ") {
				t.Errorf("%s: left behind: %s", r, left)
			}
		}
	}
	if len(m.Builds) != 1 || len(m.Builds[0].Images) != 3 {
		t.Errorf("manifest: %+v", m)
	}
	if st := e.cloud.Stats(); st.Throttled == 0 && st.Faults == 0 {
		t.Errorf("the hostile profile injected no faults; the test proves nothing: %+v", st)
	}
}

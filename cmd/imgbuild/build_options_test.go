package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// optionsTemplate exercises the amazon-ebs options the main end-to-end
// test does not: subnet_filter, encrypted copies with per-region KMS keys
// (the final images are copies of an intermediate image), snapshot
// sharing, organisation sharing, IMDS support, user data from a file,
// run volume tags, extra AMI block devices, a launch volume that outlives
// its instance (cleanup must delete it), associate_public_ip_address and
// no_reboot.
const optionsTemplate = `
source "amazon-ebs" "opts" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ubuntu"
  ami_name      = "opts-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*-x86_64-gp2"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  subnet_filter {
    filters = {
      "default-for-az" = "true"
    }
    most_free = true
  }
  associate_public_ip_address = true
  encrypt_boot                = true
  kms_key_id                  = "alias/build-key"
  region_kms_key_ids = {
    "eu-west-1" = "alias/eu-key"
  }
  snapshot_users = ["210987654321"]
  ami_org_arns   = ["arn:aws:organizations::111122223333:organization/o-abcdefghij"]
  imds_support   = "v2.0"
  user_data_file = "boot.sh"
  no_reboot      = true
  run_volume_tags = {
    Purpose = "build-volume"
  }
  launch_block_device_mappings {
    device_name           = "/dev/sdg"
    volume_size           = 1
    delete_on_termination = false
  }
  ami_block_device_mappings {
    device_name = "/dev/sdf"
    virtual_name = "ephemeral0"
  }
}

build {
  sources = ["source.amazon-ebs.opts"]
  provisioner "shell" {
    inline = ["echo ubuntu-login-works"]
  }
}
`

func TestBuildOptions(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": optionsTemplate, "boot.sh": "#!/bin/sh\necho booted\n"})
	code, out, errOut := e.imgbuild("build", e.dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "ubuntu-login-works") {
		t.Errorf("provisioner output missing:\n%s", out)
	}
	runID := runIDFrom(t, out)
	ctx := context.Background()
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		c := e.ec2(region)
		ims, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
			Filters: []types.Filter{{Name: aws.String("tag:imgbuild:run-id"), Values: []string{runID}}}})
		e.must(err)
		if len(ims.Images) != 1 {
			t.Fatalf("%s: %d images of the run, want 1 (the intermediate image must be gone)", region, len(ims.Images))
		}
		im := ims.Images[0]
		if strings.Contains(aws.ToString(im.Name), "imgbuild-") || !strings.HasPrefix(aws.ToString(im.Name), "opts-") {
			t.Errorf("%s: final image is named %q", region, aws.ToString(im.Name))
		}
		attr, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: im.ImageId, Attribute: types.ImageAttributeNameLaunchPermission})
		e.must(err)
		var orgs []string
		for _, p := range attr.LaunchPermissions {
			orgs = append(orgs, aws.ToString(p.OrganizationArn))
		}
		if !slices.Contains(orgs, "arn:aws:organizations::111122223333:organization/o-abcdefghij") {
			t.Errorf("%s: organisation not shared: %v", region, orgs)
		}
		for _, bdm := range im.BlockDeviceMappings {
			if bdm.Ebs == nil || bdm.Ebs.SnapshotId == nil {
				continue
			}
			sa, err := c.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{SnapshotId: bdm.Ebs.SnapshotId,
				Attribute: types.SnapshotAttributeNameCreateVolumePermission})
			e.must(err)
			var users []string
			for _, p := range sa.CreateVolumePermissions {
				users = append(users, aws.ToString(p.UserId))
			}
			if !slices.Contains(users, "210987654321") {
				t.Errorf("%s: snapshot %s not shared: %v", region, aws.ToString(bdm.Ebs.SnapshotId), users)
			}
		}
		for _, left := range e.runResources(region, runID) {
			if !strings.HasPrefix(left, "image ") && !strings.HasPrefix(left, "snapshot ") {
				t.Errorf("%s: left behind: %s", region, left)
			}
		}
	}
}

// TestBuildSkipCreateAMI: skip_create_ami provisions and cleans up without
// making an image.
func TestBuildSkipCreateAMI(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": strings.Replace(e2eFiles("skip", `"echo dry-run-ok"`)["main.pkr.hcl"],
		`  ami_users     = ["123456789012"]`, "  ami_users     = [\"123456789012\"]\n  skip_create_ami = true", 1)})
	code, out, errOut := e.imgbuild("build", e.dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "dry-run-ok") || !strings.Contains(out, "no image (skip_create_ami)") {
		t.Errorf("output:\n%s", out)
	}
	runID := runIDFrom(t, out)
	for _, r := range e2eRegions {
		if left := e.runResources(r, runID); len(left) > 0 {
			t.Errorf("%s: left behind: %v", r, left)
		}
	}
}

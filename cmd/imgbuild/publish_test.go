package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// publishTemplate builds an image in two regions without a guest
// (communicator none); rev changes a provisioner, so every run rebuilds.
// The image is published in SSM and as the default version of a launch
// template, and retention keeps the newest two.
const publishTemplate = `
variable "rev" {
  type = string
}

source "amazon-ebs" "web" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "app-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  name    = "app"
  sources = ["source.amazon-ebs.web"]
  provisioner "shell-local" {
    inline = ["echo building rev ${var.rev}"]
  }
  post-processor "amazon-ssm-parameter" {
    name = "/images/app/latest"
    tags = { team = "images" }
  }
  post-processor "amazon-launch-template" {
    launch_template_name = "app"
    set_default          = true
    version_description  = "rev ${var.rev}"
  }
  post-processor "retention" {
    keep   = 2
    delete = true
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`

// TestPublishAndRetention builds the template three times in two
// regions: each run publishes its image in SSM and in the launch template
// of each region, and after the third, keep = 2 has deleted the first
// run's images and snapshots in both regions.
func TestPublishAndRetention(t *testing.T) {
	t.Parallel()
	testenv.Require(t, testenv.Moto)
	e := e2eOn(t, testenv.LocalCloud(t, profileSettings(t, "instant", "ssh=false")), "")
	e.write(map[string]string{"main.pkr.hcl": publishTemplate})
	ctx := context.Background()
	regions := []string{"eu-west-1", "us-east-1"}
	for _, r := range regions {
		c := e.ec2(r)
		src, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
			Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"amzn2-ami-hvm-*-x86_64-gp2"}}}})
		if err != nil || len(src.Images) == 0 {
			t.Fatalf("%s: no source image: %v", r, err)
		}
		if _, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("app"),
			LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: src.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro}}); err != nil {
			t.Fatal(err)
		}
	}

	var runs []map[string]manifestBuild // per run, its build by region
	for rev := 1; rev <= 3; rev++ {
		code, out, errOut := e.imgbuild("build", "-var", fmt.Sprintf("rev=%d", rev), e.dir)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", rev, code, out, errOut)
		}
		t.Logf("run %d:\n%s", rev, out)
		m := e.manifest("manifest.json")
		b := m.Builds[len(m.Builds)-1]
		if len(b.Images) != 2 {
			t.Fatalf("run %d: images %+v", rev, b.Images)
		}
		runs = append(runs, map[string]manifestBuild{"": b})
		if rev == 3 && !strings.Contains(out, "retention: delete ") {
			t.Errorf("run 3 output does not say what retention deleted:\n%s", out)
		}
		if rev < 3 && strings.Contains(out, "retention: ") {
			t.Errorf("run %d: retention acted within keep:\n%s", rev, out)
		}
	}
	image := func(run int, region string) (string, []string) {
		for _, im := range runs[run][""].Images {
			if im.Region == region {
				return im.ImageID, im.Snapshots
			}
		}
		t.Fatalf("run %d has no image in %s", run+1, region)
		return "", nil
	}
	for _, r := range regions {
		c := e.ec2(r)
		for run := range runs {
			id, snaps := image(run, r)
			want := run > 0 // keep = 2: the first run's image is gone
			imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
			if exists := err == nil && len(imgs.Images) == 1; exists != want {
				t.Errorf("%s: image of run %d (%s) exists = %v, want %v", r, run+1, id, exists, want)
			}
			for _, s := range snaps {
				out, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{s}})
				if exists := err == nil && len(out.Snapshots) == 1; exists != want {
					t.Errorf("%s: snapshot %s of run %d exists = %v, want %v", r, s, run+1, exists, want)
				}
			}
		}
		newest, _ := image(2, r)
		p, err := ssm.NewFromConfig(testenv.AWSConfig(e.cloud.URL(), r)).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/images/app/latest")})
		if err != nil || aws.ToString(p.Parameter.Value) != newest || aws.ToString(p.Parameter.DataType) != "aws:ec2:image" {
			t.Errorf("%s: /images/app/latest = %v (%v), want %s", r, p, err, newest)
		}
		v, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
			LaunchTemplateName: aws.String("app"), Versions: []string{"$Default"}})
		if err != nil || len(v.LaunchTemplateVersions) != 1 {
			t.Fatalf("%s: launch template: %v", r, err)
		}
		d := v.LaunchTemplateVersions[0]
		if aws.ToString(d.LaunchTemplateData.ImageId) != newest || aws.ToInt64(d.VersionNumber) != 4 || aws.ToString(d.VersionDescription) != "rev 3" {
			t.Errorf("%s: default version %d (%q) launches %s, want 4 (rev 3) launching %s", r, aws.ToInt64(d.VersionNumber),
				aws.ToString(d.VersionDescription), aws.ToString(d.LaunchTemplateData.ImageId), newest)
		}
		if ud := aws.ToString(d.LaunchTemplateData.UserData); ud != "" {
			b, _ := base64.StdEncoding.DecodeString(ud)
			t.Errorf("%s: user data %q set without a boot payload", r, b)
		}
	}
}

package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// regionlessTemplate names no region anywhere: the amazon-ami data source
// and the source take it from the environment, as Packer's do.
const regionlessTemplate = `
data "amazon-ami" "base" {
  filters = {
    name = "amzn2-ami-hvm-*-x86_64-gp2"
  }
  owners      = ["amazon"]
  most_recent = true
}

source "amazon-ebs" "al" {
  source_ami    = data.amazon-ami.base.id
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "regionless-{{timestamp}}"
  ami_regions   = ["us-east-1"]
  tags = {
    Region = "{{ .BuildRegion }}"
  }
}

build {
  name    = "noregion"
  sources = ["source.amazon-ebs.al"]
  provisioner "shell" {
    inline = ["echo built-in-$(hostname)"]
  }
  post-processor "manifest" {
    output = "${path.root}/manifest.json"
  }
}
`

// TestBuildRegionFromEnvironment: with no region in the template,
// AWS_REGION decides where the data source looks, where the instance
// runs and the image is made, and where ami_regions copy from; everything
// temporary is removed from there.
func TestBuildRegionFromEnvironment(t *testing.T) {
	e := newE2E(t, "instant")
	e.env = append(e.env, "AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=")
	e.write(map[string]string{"main.pkr.hcl": regionlessTemplate})
	if code, out, errOut := e.imgbuild("validate", e.dir); code != 0 {
		t.Fatalf("validate: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := e.imgbuild("build", e.dir)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"image in eu-west-1", "copy to us-east-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	runID := runIDFrom(t, out)
	b := e.manifest("manifest.json").Builds
	if len(b) != 1 {
		t.Fatalf("manifest builds: %+v", b)
	}
	var regions []string
	for _, im := range b[0].Images {
		regions = append(regions, im.Region)
		got, err := e.ec2(im.Region).DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{im.ImageID}})
		e.must(err)
		if len(got.Images) != 1 {
			t.Fatalf("%s: image %s not found", im.Region, im.ImageID)
		}
		// imgbuild renders tags per region (as TestBuildEndToEnd checks)
		if tags := tagMap(got.Images[0].Tags); tags["Region"] != im.Region {
			t.Errorf("%s: {{ .BuildRegion }} rendered as %q", im.Region, tags["Region"])
		}
		if im.Region == "eu-west-1" && !strings.HasPrefix(aws.ToString(got.Images[0].Name), "regionless-") {
			t.Errorf("eu-west-1 image %s named %q", im.ImageID, aws.ToString(got.Images[0].Name))
		}
	}
	slices.Sort(regions)
	if strings.Join(regions, ",") != "eu-west-1,us-east-1" {
		t.Errorf("images in %v, want eu-west-1 and us-east-1", regions)
	}
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		for _, left := range e.runResources(r, runID) {
			if !strings.HasPrefix(left, "image ") && !strings.HasPrefix(left, "snapshot ") {
				t.Errorf("%s: left behind: %s", r, left)
			}
		}
	}
}

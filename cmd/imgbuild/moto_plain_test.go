package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// packerTemplate is a Packer amazon-ebs template of the kind Packer's own
// measurements use (communicator none, a source filter, sharing, tags,
// copies), with a packer block. It must run unchanged against plain
// moto_server and against the local cloud.
const packerTemplate = `
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.8.0"
    }
  }
}

source "amazon-ebs" "plain" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "packer-plain-{{timestamp}}"
  ami_regions   = ["eu-west-1", "eu-central-1"]
  ami_users     = ["123456789012"]
  source_ami_filter {
    filters = {
      name                = "amzn2-ami-hvm-*-x86_64-gp2"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }
  tags = {
    Name    = "plain"
    Team    = "platform"
    Base    = "{{ .SourceAMIName }}"
    Release = "{{ timestamp }}"
  }
}

build {
  sources = ["source.amazon-ebs.plain"]
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`

// TestPackerTemplateUnchanged builds the Packer template unchanged. On the
// local cloud it succeeds. Plain moto_server answers CreateImage with
// snapshot TagSpecifications by a 500; imgbuild used to retry without
// the snapshot tags on any 5xx, which on AWS would leave untagged
// snapshots after a transient error, so that retry is gone (no branch of
// the build is keyed on an emulator's bug) and on plain moto the build
// must now fail: the test asserts that it fails naming CreateImage,
// exits 1 and leaves nothing of the run behind (the local cloud's realism
// layer is what fixes moto for real builds).
func TestPackerTemplateUnchanged(t *testing.T) {
	t.Parallel()
	t.Run("plain moto_server", func(t *testing.T) {
		url := testenv.PlainMoto(t)
		dir := t.TempDir()
		env := append(os.Environ(), "AWS_ENDPOINT_URL="+url, "AWS_ACCESS_KEY_ID=testing",
			"AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1", "IMGBUILD_STATE_DIR="+dir+"/state")
		e := &e2e{t: t, dir: dir, env: env}
		e.write(map[string]string{"main.pkr.hcl": packerTemplate})
		code, out, errOut := e.imgbuild("build", dir)
		if code != 1 || !strings.Contains(out+errOut, "CreateImage") {
			t.Fatalf("exit %d, want 1 with an error naming CreateImage\n%s\n%s", code, out, errOut)
		}
		c := ec2.NewFromConfig(testenv.AWSConfig(url, "us-east-1"))
		fs := []types.Filter{{Name: aws.String("tag-key"), Values: []string{"imgbuild:run-id"}}}
		for _, left := range e.taggedImages(c, fs) {
			t.Errorf("left behind: %s", left)
		}
		insts, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: fs})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range insts.Reservations {
			for _, i := range r.Instances {
				if i.State.Name != types.InstanceStateNameTerminated {
					t.Errorf("instance %s left %s", aws.ToString(i.InstanceId), i.State.Name)
				}
			}
		}
	})
	t.Run("local cloud", func(t *testing.T) {
		e := newE2E(t, "realistic")
		e.write(map[string]string{"main.pkr.hcl": packerTemplate})
		code, out, errOut := e.imgbuild("build", e.dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		runID := runIDFrom(t, out)
		for _, r := range []string{"us-east-1", "eu-west-1", "eu-central-1"} {
			for _, left := range e.runResources(r, runID) {
				if !strings.HasPrefix(left, "image ") && !strings.HasPrefix(left, "snapshot ") {
					t.Errorf("%s: left behind: %s", r, left)
				}
			}
		}
	})
}

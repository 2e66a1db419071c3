package main

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// replaceTemplate builds an image of a fixed name in two regions,
// replacing the images of that name with force_deregister.
const replaceTemplate = `
source "amazon-ebs" "rep" {
  region                = "us-east-1"
  instance_type         = "t3.micro"
  communicator          = "none"
  ami_name              = "replace-fixed"
  ami_regions           = ["eu-west-1"]
  ami_users             = ["123456789012"]
  force_deregister      = true
  force_delete_snapshot = true
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
  tags          = { Name = "replace" }
  snapshot_tags = { Kind = "root" }
}
build {
  sources = ["source.amazon-ebs.rep"]
}
`

var replaceRegions = []string{"us-east-1", "eu-west-1"}

// imagesNamed returns the account's images named name in region, by ID,
// with their state.
func (e *e2e) imagesNamed(region, name string) map[string]types.Image {
	e.t.Helper()
	out, err := e.ec2(region).DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{name}}}})
	e.must(err)
	m := map[string]types.Image{}
	for _, im := range out.Images {
		m[aws.ToString(im.ImageId)] = im
	}
	return m
}

// buildReplace builds replaceTemplate and returns the image of each region
// named replace-fixed afterwards. It builds with --force: the template
// does not change between the builds of a test, and without it the
// second would be skipped as up to date.
func (e *e2e) buildReplace(wantCode int) (map[string]string, string) {
	e.t.Helper()
	code, out, errOut := e.imgbuild("build", "--force", e.dir)
	if code != wantCode {
		e.t.Fatalf("build: exit %d, want %d\n%s\n%s", code, wantCode, out, errOut)
	}
	ids := map[string]string{}
	for _, r := range replaceRegions {
		ims := e.imagesNamed(r, "replace-fixed")
		if len(ims) != 1 {
			e.t.Fatalf("%s: %d images named replace-fixed, want 1: %v\n%s\n%s", r, len(ims), ims, out, errOut)
		}
		for id, im := range ims {
			if im.State != types.ImageStateAvailable {
				e.t.Errorf("%s: %s is %s", r, id, im.State)
			}
			ids[r] = id
		}
	}
	return ids, out + errOut
}

// TestBuildReplaceKeepsOldImagesWhenARegionFails: with force_deregister,
// a build whose temporary copy fails in the second region leaves the old
// images of both regions in place; the old image of the build region is
// not replaced before every region's new image is available.
func TestBuildReplaceKeepsOldImagesWhenARegionFails(t *testing.T) {
	e := newE2E(t, "instant", "fail-images=eu-west-1/*-imgbuild-*")
	e.write(map[string]string{"main.pkr.hcl": replaceTemplate})
	old, _ := e.buildReplace(0)
	after, out := e.buildReplace(1)
	if !strings.Contains(out, "injected image failure") {
		t.Errorf("output does not name the failure:\n%s", out)
	}
	for _, r := range replaceRegions {
		if after[r] != old[r] {
			t.Errorf("%s: the image named replace-fixed is %s, want the old %s kept", r, after[r], old[r])
		}
		for _, left := range e.anyRunResources(r) {
			if !strings.HasSuffix(left, "(complete)") {
				t.Errorf("%s: the failed build left %s", r, left)
			}
		}
	}
}

// TestBuildReplaceSwapsEveryRegion: a second build with force_deregister
// replaces the image of each region, deregisters the old ones and leaves
// nothing under a temporary name.
func TestBuildReplaceSwapsEveryRegion(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": replaceTemplate})
	old, _ := e.buildReplace(0)
	fresh, out := e.buildReplace(0)
	runID := runIDFrom(t, out)
	for _, r := range replaceRegions {
		if fresh[r] == old[r] {
			t.Errorf("%s: image %s was not replaced", r, old[r])
		}
		im := e.imagesNamed(r, "replace-fixed")[fresh[r]]
		if tagMap(im.Tags)["imgbuild:run-id"] != runID || tagMap(im.Tags)["imgbuild:complete"] == "" {
			t.Errorf("%s: the new image's tags %v", r, tagMap(im.Tags))
		}
		if temps := e.imagesNamed(r, "replace-fixed-imgbuild-*"); len(temps) > 0 {
			t.Errorf("%s: temporary images left: %v", r, slices.Collect(maps.Keys(temps)))
		}
		gone, err := e.ec2(r).DescribeImages(context.Background(), &ec2.DescribeImagesInput{
			Filters: []types.Filter{{Name: aws.String("image-id"), Values: []string{old[r]}}}})
		e.must(err)
		if len(gone.Images) > 0 && gone.Images[0].State != types.ImageStateDeregistered {
			t.Errorf("%s: old image %s is still %s", r, old[r], gone.Images[0].State)
		}
		for _, left := range e.runImages(r, runID) {
			if !strings.HasSuffix(left, "(complete)") {
				t.Errorf("%s: left behind: %s", r, left)
			}
		}
	}
}

// TestBuildRefusesATakenName: without force_deregister, a build whose
// image name is taken in the build region, or only in a copy region,
// fails saying so and how to replace it, keeps the old images and leaves
// nothing of its own behind.
func TestBuildRefusesATakenName(t *testing.T) {
	e := newE2E(t, "instant")
	keep := strings.NewReplacer("  force_deregister      = true\n", "", "  force_delete_snapshot = true\n", "").Replace(replaceTemplate)
	e.write(map[string]string{"main.pkr.hcl": keep})
	old, _ := e.buildReplace(0)
	refused := func(region string) {
		t.Helper()
		code, out, errOut := e.imgbuild("build", "--force", e.dir)
		want := `an image named "replace-fixed" already exists in ` + region + " (" + old[region] + "); set force_deregister = true to replace it"
		if code != 1 || !strings.Contains(out+errOut, want) {
			t.Errorf("build: exit %d, want 1 and %q\n%s\n%s", code, want, out, errOut)
		}
		for _, r := range replaceRegions {
			if ims := e.imagesNamed(r, "replace-fixed"); old[r] != "" && len(ims) != 1 {
				t.Errorf("%s: images named replace-fixed %v, want only the old %s", r, slices.Collect(maps.Keys(ims)), old[r])
			}
			for _, left := range e.anyRunResources(r) {
				if !strings.HasSuffix(left, "(complete)") {
					t.Errorf("%s: the refused build left %s", r, left)
				}
			}
		}
	}
	refused("us-east-1")
	// With the name free in the build region, the copy to eu-west-1 is
	// the one refused.
	if _, err := e.ec2("us-east-1").DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: aws.String(old["us-east-1"])}); err != nil {
		t.Fatal(err)
	}
	delete(old, "us-east-1")
	refused("eu-west-1")
	if ims := e.imagesNamed("us-east-1", "replace-fixed"); len(ims) != 0 {
		t.Errorf("us-east-1: the refused build kept its image %v", slices.Collect(maps.Keys(ims)))
	}
}

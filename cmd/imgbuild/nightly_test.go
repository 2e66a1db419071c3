package main

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/localcloud"
)

// nightlyTemplate is a base image and an app layered on it with
// source_build, each kept in two regions. The app's script is a file, so
// changing it changes the app's fingerprint only.
const nightlyTemplate = `
source "amazon-ebs" "base" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "base-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}

source "amazon-ebs" "app" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "app-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  source_build  = "base"
}

build {
  name    = "base"
  sources = ["source.amazon-ebs.base"]
  provisioner "shell" {
    inline = ["echo base-1 | sudo tee /etc/base-release"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}

build {
  name    = "app"
  sources = ["source.amazon-ebs.app"]
  provisioner "shell" {
    script = "app.sh"
  }
  post-processor "amazon-ssm-parameter" {
    name = "/images/app/latest"
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`

// mutatingCalls returns the EC2 requests since before that are not reads.
func mutatingCalls(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for action, n := range after {
		if d := n - before[action]; d > 0 && !isRead(action) {
			out[action] = d
		}
	}
	return out
}

func isRead(action string) bool {
	for _, p := range []string{"Describe", "Get", "List", "Head"} {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// TestNightlyRebuilds runs the nightly job five times: the first builds
// the base and the app layered on it; the second finds both up to date
// and makes no mutating call (nor does imgbuild plan, whose output is
// compared with golden files); a changed app script rebuilds the app
// only; a deleted copy is completed by a copy, without an instance; a
// newer source image (patch Tuesday) rebuilds both. The app image
// carries the base's content.
func TestNightlyRebuilds(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": nightlyTemplate, "app.sh": "echo app-1 | sudo tee /etc/app-release\n"})
	build := func(args ...string) string {
		t.Helper()
		code, out, errOut := e.imgbuild(append(append([]string{"build"}, args...), e.dir)...)
		if code != 0 {
			t.Fatalf("build %v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		return out
	}
	status := func() map[string]manifestBuild {
		t.Helper()
		m := e.manifest("manifest.json")
		out := map[string]manifestBuild{}
		runID := m.LastRunUUID
		for _, b := range m.Builds {
			if b.RunUUID == runID {
				out[b.Name] = b
			}
		}
		return out
	}

	// Run 1: both built, the app after the base, from the base's image.
	build()
	first := status()
	base, app := first["base.amazon-ebs.base"], first["app.amazon-ebs.app"]
	if base.Status != "built" || app.Status != "built" || base.Fingerprint == "" || app.Fingerprint == "" {
		t.Fatalf("run 1: statuses %q %q fingerprints %q %q", base.Status, app.Status, base.Fingerprint, app.Fingerprint)
	}
	if app.SourceImage == nil || app.SourceImage.ImageID != imageIn(base, "us-east-1") {
		t.Fatalf("run 1: the app's source is %+v, want the base's image %s", app.SourceImage, imageIn(base, "us-east-1"))
	}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		e.checkFingerprintTags(r, imageIn(app, r), app.Fingerprint, "app.amazon-ebs.app")
	}
	conn := e.boot("eu-west-1", imageIn(app, "eu-west-1"), "")
	if got := sshOutput(t, conn, "cat /etc/base-release /etc/app-release"); got != "base-1\napp-1\n" {
		t.Fatalf("the app image in eu-west-1 holds %q, want the base's and the app's files", got)
	}

	// Run 2: nothing changed: no mutating call at all.
	before := maps.Clone(e.cloud.Stats().Actions)
	out := build()
	if m := mutatingCalls(before, e.cloud.Stats().Actions); len(m) != 0 {
		t.Errorf("run 2 made mutating calls: %v", m)
	}
	second := status()
	for name, b := range second {
		if b.Status != "up-to-date" || b.Fingerprint != first[name].Fingerprint || b.ArtifactID != first[name].ArtifactID {
			t.Errorf("run 2: %s is %q with %s, want up-to-date with %s", name, b.Status, b.ArtifactID, first[name].ArtifactID)
		}
	}
	if !strings.Contains(out, "up to date: "+imageIn(app, "us-east-1")) {
		t.Errorf("run 2 does not say the app is up to date:\n%s", out)
	}

	// imgbuild plan reads and changes nothing: with nothing to do it
	// exits 0 with -detailed-exitcode; after the app's script changed, 2.
	before = maps.Clone(e.cloud.Stats().Actions)
	e.checkPlan("plan-up-to-date.txt", 0, "-detailed-exitcode")
	e.write(map[string]string{"app.sh": "echo app-2 | sudo tee /etc/app-release\n"})
	e.checkPlan("plan-app-changed.txt", 2, "-detailed-exitcode")
	e.checkPlan("plan-app-changed.json", 0, "-json")
	if m := mutatingCalls(before, e.cloud.Stats().Actions); len(m) != 0 {
		t.Errorf("imgbuild plan made mutating calls: %v", m)
	}

	// Run 3: a changed app script rebuilds the app only.
	build()
	third := status()
	if third["base.amazon-ebs.base"].Status != "up-to-date" || third["app.amazon-ebs.app"].Status != "built" ||
		third["app.amazon-ebs.app"].Fingerprint == app.Fingerprint {
		t.Fatalf("run 3: base %q (fingerprint %s, was %s), app %q (fingerprint %s, was %s)", third["base.amazon-ebs.base"].Status, third["base.amazon-ebs.base"].Fingerprint, base.Fingerprint,
			third["app.amazon-ebs.app"].Status, third["app.amazon-ebs.app"].Fingerprint, app.Fingerprint)
	}
	app3 := third["app.amazon-ebs.app"]

	// Run 4: the app's copy in eu-west-1 is gone: completed by a copy,
	// without launching an instance.
	ctx := context.Background()
	_, err := e.ec2("eu-west-1").DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(imageIn(app3, "eu-west-1"))})
	e.must(err)
	before = maps.Clone(e.cloud.Stats().Actions)
	out = build()
	m := mutatingCalls(before, e.cloud.Stats().Actions)
	if m["RunInstances"] != 0 || m["CopyImage"] != 1 || m["CreateImage"] != 0 {
		t.Errorf("run 4: calls %v, want one CopyImage and no instance", m)
	}
	if !strings.Contains(out, "completing eu-west-1 from us-east-1") {
		t.Errorf("run 4 does not say what it completes:\n%s", out)
	}
	fourth := status()
	app4 := fourth["app.amazon-ebs.app"]
	if app4.Status != "completed" || imageIn(app4, "us-east-1") != imageIn(app3, "us-east-1") ||
		imageIn(app4, "eu-west-1") == imageIn(app3, "eu-west-1") || imageIn(app4, "eu-west-1") == "" {
		t.Errorf("run 4: app %q images %v, was %v", app4.Status, app4.Images, app3.Images)
	}
	e.checkFingerprintTags("eu-west-1", imageIn(app4, "eu-west-1"), app4.Fingerprint, "app.amazon-ebs.app")

	// Run 5: patch Tuesday: a newer source image is published; the base
	// is rebuilt from it, and so is the app, from the new base.
	pub, err := e.cloud.PublishImage(ctx, localcloud.PublishRequest{Like: "amzn2-ami-hvm-", Name: "amzn2-ami-hvm-2.0.20261208.0-x86_64-gp2"})
	e.must(err)
	build()
	fifth := status()
	base5, app5 := fifth["base.amazon-ebs.base"], fifth["app.amazon-ebs.app"]
	if base5.Status != "built" || app5.Status != "built" || base5.SourceImage == nil || base5.SourceImage.ImageID != pub.Images["us-east-1"] {
		t.Fatalf("run 5: base %q from %+v (published %s), app %q", base5.Status, base5.SourceImage, pub.Images["us-east-1"], app5.Status)
	}
	if app5.SourceImage == nil || app5.SourceImage.ImageID != imageIn(base5, "us-east-1") {
		t.Fatalf("run 5: the app's source is %+v, want the new base %s", app5.SourceImage, imageIn(base5, "us-east-1"))
	}
	conn = e.boot("us-east-1", imageIn(app5, "us-east-1"), "")
	if got := sshOutput(t, conn, "cat /etc/base-release /etc/app-release"); got != "base-1\napp-2\n" {
		t.Fatalf("run 5: the app image holds %q", got)
	}
}

// checkPlan runs imgbuild plan with args, checks its exit code and
// compares its output, IDs, fingerprints and dates replaced by
// placeholders, with testdata/plan/golden.
func (e *e2e) checkPlan(golden string, wantCode int, args ...string) {
	e.t.Helper()
	code, out, errOut := e.imgbuild(append(append([]string{"plan"}, args...), e.dir)...)
	if code != wantCode {
		e.t.Fatalf("plan %v: exit %d, want %d\n%s\n%s", args, code, wantCode, out, errOut)
	}
	checkGolden(e.t, filepath.Join("testdata", "plan", golden), planPlaceholders(out))
}

var (
	amiRE         = regexp.MustCompile(`ami-[0-9a-f]{8,17}`)
	fingerprintRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)
	dateRE        = regexp.MustCompile(`\d{4}-\d\d-\d\d`)
)

// planPlaceholders names IDs and fingerprints in order of appearance
// (ami-1, fingerprint-1, ...) and replaces dates by DATE.
func planPlaceholders(s string) string {
	for _, r := range []struct {
		re   *regexp.Regexp
		name string
	}{{amiRE, "ami-%d"}, {fingerprintRE, "fingerprint-%d"}} {
		seen := map[string]string{}
		s = r.re.ReplaceAllStringFunc(s, func(m string) string {
			if _, ok := seen[m]; !ok {
				seen[m] = fmt.Sprintf(r.name, len(seen)+1)
			}
			return seen[m]
		})
	}
	return dateRE.ReplaceAllString(s, "DATE")
}

// imageIn returns a manifest build's image in region.
func imageIn(b manifestBuild, region string) string {
	for _, im := range b.Images {
		if im.Region == region {
			return im.ImageID
		}
	}
	return ""
}

// checkFingerprintTags asserts that an image and its snapshots carry the
// fingerprint and recipe tags.
func (e *e2e) checkFingerprintTags(region, id, fp, recipe string) {
	e.t.Helper()
	ctx := context.Background()
	c := e.ec2(region)
	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	e.must(err)
	if len(out.Images) != 1 {
		e.t.Fatalf("%s: image %s not found", region, id)
	}
	tags := tagMap(out.Images[0].Tags)
	if tags["imgbuild:fingerprint"] != fp || tags["imgbuild:recipe"] != recipe {
		e.t.Errorf("%s: %s tags %v, want fingerprint %s recipe %s", region, id, tags, fp, recipe)
	}
	for _, bdm := range out.Images[0].BlockDeviceMappings {
		if bdm.Ebs == nil || bdm.Ebs.SnapshotId == nil {
			continue
		}
		snap := aws.ToString(bdm.Ebs.SnapshotId)
		s, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
		e.must(err)
		if st := tagMap(s.Snapshots[0].Tags); st["imgbuild:fingerprint"] != fp {
			e.t.Errorf("%s: snapshot %s tags %v lack the fingerprint", region, snap, st)
		}
	}
}

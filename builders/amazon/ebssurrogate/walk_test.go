package ebssurrogate_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// startCloud starts an instant local cloud without guests (the builds
// have no communicator) and points the AWS environment variables at it
// for the rest of the test.
func startCloud(t *testing.T, failImages string) *localcloud.Cloud {
	t.Helper()
	testenv.Require(t, testenv.Moto)
	s, err := localcloud.ProfileSettings(localcloud.Instant)
	if err != nil {
		t.Fatal(err)
	}
	s.SSH, s.FailImages = false, failImages
	cloud := testenv.LocalCloud(t, s)
	for _, kv := range append(cloud.Env(), "AWS_POLL_DELAY_SECONDS=1") {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return cloud
}

// walked is the outcome of one build walk.
type walked struct {
	build  builder.Build
	runID  string
	result *dag.Result
	run    *journal.Run
}

// walkTemplate loads and plans a template and walks its one build with
// the nodes of the builder the registry names for it (this package's);
// the template has no provisioner or post-processor.
func walkTemplate(t *testing.T, text string) walked {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "build.pkr.hcl")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	tpl, diags := template.Load(path, template.Options{})
	if diags.HasErrors() {
		t.Fatalf("load template: %s", diags.Error())
	}
	p, err := plan.New(tpl, plan.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	bp := p.Builds[0]
	jw, err := journal.Create(t.TempDir(), journal.Header{Template: path})
	if err != nil {
		t.Fatal(err)
	}
	env := &builder.Env{
		RunID: jw.RunID(), BuildName: bp.Name, Journal: jw, Out: &bytes.Buffer{}, Logger: testenv.Logger(t),
		BaseDir: dir, Now: time.Now().UTC(), AddSecret: func(string) {},
		Say: func(format string, args ...any) { t.Logf("==> %s: %s", bp.Name, fmt.Sprintf(format, args...)) },
	}
	ctx := context.Background()
	bld, err := bp.Use.Source.Component.Builder.Start(ctx, env, bp.Use.Config)
	if err != nil {
		t.Fatal(err)
	}
	g := dag.New()
	for _, step := range bp.Steps {
		n, err := bld.Node(&step.Step)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Add(step.ID, bp.Name, n, step.Deps...); err != nil {
			t.Fatal(err)
		}
	}
	res := g.Walk(ctx, dag.Options{CleanupTimeout: time.Minute, Logger: testenv.Logger(t)})
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	run, err := journal.Read(jw.Path())
	if err != nil {
		t.Fatal(err)
	}
	return walked{build: bld, runID: jw.RunID(), result: res, run: run}
}

// surrogate is a build without a communicator: a volume the image boots
// from (kept on termination, as Packer's default), and a scratch volume
// left out of the image.
func surrogate(name string) string {
	return fmt.Sprintf(`
source "amazon-ebssurrogate" "s" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  communicator  = "none"
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
  ami_name                = "%s"
  ami_regions             = ["eu-west-1"]
  ami_virtualization_type = "hvm"
  launch_block_device_mappings {
    device_name = "/dev/xvdf"
    volume_size = 4
  }
  launch_block_device_mappings {
    device_name           = "/dev/xvdg"
    volume_size           = 1
    delete_on_termination = true
    omit_from_artifact    = true
  }
  ami_root_device {
    source_device_name = "/dev/xvdf"
    device_name        = "/dev/xvda"
  }
  snapshot_tags = { Kind = "root" }
}

build {
  sources = ["source.amazon-ebssurrogate.s"]
}
`, name)
}

// TestWalkRegistersFromTheVolume: the image in the build region is
// registered from the snapshot of /dev/xvdf alone, which carries the
// snapshot tags; nothing but the images and their snapshots is left.
func TestWalkRegistersFromTheVolume(t *testing.T) {
	cloud := startCloud(t, "")
	w := walkTemplate(t, surrogate("surrogate-ok"))
	if err := w.result.Err(); err != nil {
		t.Fatalf("walk: %v", err)
	}
	a := w.build.Artifact()
	if len(a.Images) != 2 || a.BuilderType != "amazon-ebssurrogate" {
		t.Fatalf("artifact %+v", a)
	}
	for _, im := range a.Images {
		c := ec2In(cloud, im.Region)
		out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{im.ImageID}})
		if err != nil || len(out.Images) != 1 {
			t.Fatalf("describe %s: %v", im.ImageID, err)
		}
		img := out.Images[0]
		if aws.ToString(img.RootDeviceName) != "/dev/xvda" || len(img.BlockDeviceMappings) != 1 || len(im.Snapshots) != 1 ||
			aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId) != im.Snapshots[0] {
			t.Errorf("%s: image %s root %s, mappings %+v, artifact snapshots %v", im.Region, im.ImageID,
				aws.ToString(img.RootDeviceName), img.BlockDeviceMappings, im.Snapshots)
		}
	}
	snaps := runSnapshots(t, cloud, "us-east-1", w.runID)
	if len(snaps) != 1 || tagValue(snaps[0].Tags, "Kind") != "root" || !strings.Contains(aws.ToString(snaps[0].Description), "/dev/xvdf") {
		t.Errorf("snapshots of the run in us-east-1: %+v; want one, of /dev/xvdf, tagged Kind=root", snaps)
	}
	assertNoVolumes(t, cloud, w.runID)
	if left := w.run.Leftovers(); len(left) > 0 {
		t.Errorf("journal leftovers: %+v", left)
	}
}

// TestWalkFailureLeavesNothing makes the registered image fail, then the
// copy: each walk fails naming the region, and cleanup removes the
// snapshots, the images and the volume kept on termination.
func TestWalkFailureLeavesNothing(t *testing.T) {
	for name, tc := range map[string]struct{ fail, region string }{
		"image": {"broken-*", "us-east-1"}, "copy": {"eu-west-1/*", "eu-west-1"},
	} {
		t.Run(name, func(t *testing.T) {
			cloud := startCloud(t, tc.fail)
			w := walkTemplate(t, surrogate("broken-"+name))
			err := w.result.Err()
			if err == nil || !strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "in "+tc.region) {
				t.Fatalf("walk error %v; want one saying what failed in %s", err, tc.region)
			}
			t.Logf("walk error: %v", err)
			for _, o := range w.result.Outcomes {
				if o.CleanupErr != nil {
					t.Errorf("cleanup of %s: %v", o.ID, o.CleanupErr)
				}
			}
			for _, region := range []string{"us-east-1", "eu-west-1"} {
				if snaps := runSnapshots(t, cloud, region, w.runID); len(snaps) > 0 {
					t.Errorf("%s: snapshots left: %+v", region, snaps)
				}
				out, err := ec2In(cloud, region).DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"},
					Filters: runFilter(w.runID)})
				if err != nil || len(out.Images) > 0 {
					t.Errorf("%s: images left: %+v, %v", region, out, err)
				}
			}
			assertNoVolumes(t, cloud, w.runID)
			if left := w.run.Leftovers(); len(left) > 0 {
				t.Errorf("journal leftovers: %+v", left)
			}
		})
	}
}

func runSnapshots(t *testing.T, cloud *localcloud.Cloud, region, runID string) []types.Snapshot {
	t.Helper()
	out, err := ec2In(cloud, region).DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: runFilter(runID)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Snapshots
}

// assertNoVolumes checks that no volume of the run is left.
func assertNoVolumes(t *testing.T, cloud *localcloud.Cloud, runID string) {
	t.Helper()
	out, err := ec2In(cloud, "us-east-1").DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{Filters: runFilter(runID)})
	if err != nil || len(out.Volumes) > 0 {
		t.Errorf("volumes left: %+v, %v", out, err)
	}
}

func runFilter(runID string) []types.Filter {
	return []types.Filter{{Name: aws.String("tag:imgbuild:run-id"), Values: []string{runID}}}
}

func tagValue(tags []types.Tag, key string) string {
	for _, tg := range tags {
		if aws.ToString(tg.Key) == key {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// ec2In returns an EC2 client for region of the local cloud.
func ec2In(cloud *localcloud.Cloud, region string) *ec2.Client {
	return ec2.NewFromConfig(testenv.AWSConfig(cloud.URL(), region))
}

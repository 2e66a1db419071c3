package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/pmezard/go-difflib/difflib"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/tags"
	"github.com/imgbuild/imgbuild/internal/testenv"
	"github.com/imgbuild/imgbuild/internal/ui"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const auditTemplate = `
source "amazon-ebs" "web" {
  region        = "us-east-1"
  ami_regions   = ["eu-west-1"]
  source_ami    = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "web"
}

build {
  name    = "app"
  sources = ["source.amazon-ebs.web"]
}
`

// TestAudit runs `imgbuild audit` against a local cloud where some
// instances run images of the template's recipe (approved, in both of its
// regions), others a public image, an image of another recipe, an image
// since deregistered, and one is terminated: the report lists the
// unapproved ones per region by launch time, in text and JSON (golden
// files, IDs and times replaced by names), and exits 1; with only approved
// instances left it exits 0.
func TestAudit(t *testing.T) {
	t.Parallel()
	s, _ := localcloud.ProfileSettings(localcloud.Instant)
	s.SSH = false
	e := e2eOn(t, testenv.LocalCloud(t, s), "")
	e.write(map[string]string{"app.pkr.hcl": auditTemplate})
	names := map[string]string{} // real ID -> placeholder
	east, west := e.ec2("us-east-1"), e.ec2("eu-west-1")

	image := func(c *ec2.Client, region, placeholder, recipe string) string {
		t.Helper()
		src := publicImage(t, c)
		out, err := c.CopyImage(context.Background(), &ec2.CopyImageInput{SourceRegion: aws.String(region), SourceImageId: aws.String(src), Name: aws.String(placeholder)})
		e.must(err)
		id := aws.ToString(out.ImageId)
		_, err = c.CreateTags(context.Background(), &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String(tags.Recipe), Value: aws.String(recipe)}}})
		e.must(err)
		names[id] = placeholder
		return id
	}
	launch := func(c *ec2.Client, imageID, placeholder string) string {
		t.Helper()
		out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro})
		e.must(err)
		id := aws.ToString(out.Instances[0].InstanceId)
		names[id] = placeholder
		time.Sleep(1100 * time.Millisecond) // launch times differ: a stable order
		return id
	}
	approvedEast := image(east, "us-east-1", "ami-APPROVED-EAST", "app.amazon-ebs.web")
	approvedWest := image(west, "eu-west-1", "ami-APPROVED-WEST", "app.amazon-ebs.web")
	other := image(east, "us-east-1", "ami-OTHER-RECIPE", "other.amazon-ebs.x")
	gone := image(west, "eu-west-1", "ami-DEREGISTERED", "app.amazon-ebs.old")
	names[publicImage(t, east)], names[publicImage(t, west)] = "ami-PUBLIC-EAST", "ami-PUBLIC-WEST"

	okEast := launch(east, approvedEast, "i-APPROVED-EAST")
	launch(east, publicImage(t, east), "i-PUBLIC-EAST")
	launch(east, other, "i-OTHER-RECIPE")
	okWest := launch(west, approvedWest, "i-APPROVED-WEST")
	launch(west, gone, "i-DEREGISTERED")
	launch(west, publicImage(t, west), "i-PUBLIC-WEST")
	dead := launch(west, publicImage(t, west), "i-TERMINATED")
	_, err := west.DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: aws.String(gone)})
	e.must(err)
	_, err = west.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{dead}})
	e.must(err)
	eventuallyTerminated(t, west, dead)

	for _, format := range []struct{ golden, flag string }{{"report.txt", ""}, {"report.json", "-json"}} {
		args := []string{"audit", "app.pkr.hcl"}
		if format.flag != "" {
			args = append(args, format.flag)
		}
		cmd := e.command(args...)
		cmd.Dir = e.dir
		out, err := cmd.Output()
		if code := cmd.ProcessState.ExitCode(); code != exitFailed {
			t.Fatalf("audit %s: exit %d (%v), want 1:\n%s", format.flag, code, err, out)
		}
		checkGolden(t, filepath.Join("testdata", "audit", format.golden), placeholders(string(out), names, format.flag == ""))
	}

	// --regions after the path; only approved instances there: exit 0.
	for _, id := range []string{okEast, okWest} {
		delete(names, id)
	}
	_, err = east.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: runningExcept(t, east, okEast)})
	e.must(err)
	cmd := e.command("audit", "app.pkr.hcl", "--regions", "us-east-1")
	cmd.Dir = e.dir
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "no instance outside the approved images in us-east-1") {
		t.Errorf("audit --regions us-east-1 after terminating the others: %v\n%s", err, out)
	}
}

// publicImage returns the newest public Ubuntu jammy image of the region.
func publicImage(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"099720109477"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240701"}}}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("find the public jammy image: %v (%d found)", err, len(out.Images))
	}
	return aws.ToString(out.Images[0].ImageId)
}

func eventuallyTerminated(t *testing.T, c *ec2.Client, id string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err == nil && out.Reservations[0].Instances[0].State.Name == types.InstanceStateNameTerminated {
			return
		}
	}
	t.Fatalf("%s not terminated after 30s", id)
}

func runningExcept(t *testing.T, c *ec2.Client, keep string) []string {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if id := aws.ToString(i.InstanceId); id != keep && i.State.Name != types.InstanceStateNameTerminated {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

var rfc3339RE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// placeholders replaces IDs by their names and times by LAUNCH-TIME; with
// pad, padded with spaces to the length they replace, to keep a table's
// columns aligned.
func placeholders(s string, names map[string]string, pad bool) string {
	fit := func(old, name string) string {
		if pad && len(name) < len(old) {
			return name + strings.Repeat(" ", len(old)-len(name))
		}
		return name
	}
	for id, name := range names {
		s = strings.ReplaceAll(s, id, fit(id, name))
	}
	return rfc3339RE.ReplaceAllStringFunc(s, func(m string) string { return fit(m, "LAUNCH-TIME") })
}

// checkGolden compares got with the golden file (go test -update
// rewrites it).
func checkGolden(t testing.TB, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got), FromFile: golden, ToFile: "got", Context: 3})
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, diff)
	}
}

// TestAuditUsage: no path, two paths, a bad flag and a template with errors
// are usage errors (exit 2), found before any AWS call.
func TestAuditUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pkr.hcl")
	if err := os.WriteFile(bad, []byte("build {\n  sources = [\"source.amazon-ebs.nope\"]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "expected one template path"},
		{[]string{"a.pkr.hcl", "b.pkr.hcl"}, "expected one template path"},
		{[]string{"-nosuchflag", "a.pkr.hcl"}, "flag provided but not defined"},
		{[]string{bad, "--regions", "us-east-1"}, "nope"},
	} {
		var stdout, stderr strings.Builder
		e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
		e.ui = ui.New(e.stdout, e.stderr)
		if code := runAuditCommand(context.Background(), e, tt.args); code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("audit %v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

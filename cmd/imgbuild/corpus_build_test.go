package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// corpusBuild is a template of examples/packer-corpus built on the local
// cloud as a user would run it: `imgbuild build` from dir (a copy of the
// template's directory) with Packer's arguments and the extra environment
// env. check looks at what the build made.
type corpusBuild struct {
	dir   string
	args  []string
	env   []string
	check func(c *corpusRun)
}

// corpusRun is one finished corpus build.
type corpusRun struct {
	*e2e
	out   string // the build's standard output
	runID string
}

// corpusBuilds are the corpus templates that are Linux with a source image
// on the local cloud's catalogue: each is built unchanged.
var corpusBuilds = []corpusBuild{
	{dir: "01-ebs-basic", args: []string{"template.pkr.hcl"}, check: func(c *corpusRun) {
		c.outputHas("amazon-ebs.ubuntu: hello")
		im := c.onlyImage("us-east-1", `^corpus-basic-\d+$`)
		c.sourceIs(im, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240701")
		// apt-get update left its package cache in the image.
		conn := c.boot("us-east-1", aws.ToString(im.ImageId), "")
		if got := sshOutput(c.t, conn, "test -s /var/cache/apt/pkgcache.bin && echo cached"); strings.TrimSpace(got) != "cached" {
			c.t.Errorf("no apt package cache in the image: %q", got)
		}
	}},
	{dir: "02-varfile", args: []string{"-var-file=prod.pkrvars.hcl", "."}, check: func(c *corpusRun) {
		c.outputHas("amazon-ebs.al2023: launch t3.small instance", "amazon-ebs.al2023: setup")
		im := c.onlyImage("us-east-1", `^corpus-from-varfile-\d{14}$`)
		c.sourceIs(im, "al2023-ami-2023.")
	}},
	{dir: "03-multi-source", args: []string{"."}, check: func(c *corpusRun) {
		c.outputHas("multi.amazon-ebs.web: web", "multi.amazon-ebs.worker: worker")
		if n := strings.Count(c.out, "multi.amazon-ebs.web: web\n"); n != 1 {
			c.t.Errorf("the web build echoed %d times, want once (the second provisioner excepts it):\n%s", n, c.out)
		}
		if strings.Contains(c.out, "multi.amazon-ebs.worker: web\n") {
			c.t.Errorf("the worker build ran the provisioner only the web build runs:\n%s", c.out)
		}
		images := c.images("us-east-1")
		if len(images) != 2 || images["corpus-multi-web"].ImageId == nil || images["corpus-multi-worker"].ImageId == nil {
			c.t.Fatalf("images %v, want corpus-multi-web and corpus-multi-worker", slices.Sorted(maps.Keys(images)))
		}
		c.sourceIs(images["corpus-multi-web"], "amzn2-ami-hvm-")
	}},
	{dir: "05-spot", args: []string{"."}, check: func(c *corpusRun) {
		c.outputHas("launched in us-east-1 by fleet", "amazon-ebs.spot: built on a spot instance")
		im := c.onlyImage("us-east-1", `^corpus-spot-\d{14}$`)
		c.sourceIs(im, "al2023-ami-2023.")
		conn := c.boot("us-east-1", aws.ToString(im.ImageId), "")
		if got := sshOutput(c.t, conn, "cat /etc/spot-build"); got != "built on a spot instance\n" {
			c.t.Errorf("/etc/spot-build in the image: %q", got)
		}
	}},
	{dir: "08-ami-datasource", args: []string{"."}, check: func(c *corpusRun) {
		im := c.onlyImage("us-east-1", `^corpus-ami-data$`)
		// The filter also matches Amazon's ECS-optimized AL2023 images,
		// as on AWS: most_recent picks among them all.
		c.sourceIs(im, "al2023-ami-")
	}},
	{dir: "09-locals-manifest", args: []string{"."}, check: func(c *corpusRun) {
		im := c.onlyImage("us-east-1", `^corpus-app-\d{14}$`)
		tags := tagMap(im.Tags)
		if tags["Team"] != "platform" || "corpus-app-"+tags["Release"] != aws.ToString(im.Name) {
			c.t.Errorf("image %s tags %v", aws.ToString(im.Name), tags)
		}
		m := c.manifest("manifest.json")
		if len(m.Builds) != 1 || m.Builds[0].CustomData["team"] != "platform" || !strings.HasSuffix(m.Builds[0].ArtifactID, aws.ToString(im.ImageId)) {
			c.t.Errorf("manifest %+v, want the image %s with custom_data team=platform", m, aws.ToString(im.ImageId))
		}
	}},
	{dir: "10-build-name-tags", args: []string{"."}, check: func(c *corpusRun) {
		c.outputHas("golden.amazon-ebs.tagged: building golden from amazon-ebs.tagged")
		im := c.onlyImage("us-east-1", `^corpus-tagged$`)
		src := c.sourceIs(im, "al2023-ami-2023.")
		tags := tagMap(im.Tags)
		if tags["Name"] != "golden" || tags["Build_Name"] != "golden" || tags["Base_AMI"] != src {
			c.t.Errorf("image tags %v, want Name and Build_Name golden, Base_AMI %s", tags, src)
		}
	}},
	{dir: "11-legacy-json", args: []string{"template.json"}, check: func(c *corpusRun) {
		c.outputHas("amazon-ebs.al2: legacy", "amazon-ebs.al2: built al2")
		im := c.onlyImage("us-east-1", `^corpus-legacy-1\.0\.0-\d+$`)
		src := c.sourceIs(im, "amzn2-ami-hvm-")
		tags := tagMap(im.Tags)
		if tags["Name"] != "corpus-legacy" || tags["Version"] != "1.0.0" || !strings.HasPrefix(tags["Base_AMI_Name"], "amzn2-ami-hvm-") {
			c.t.Errorf("image tags %v (source %s)", tags, src)
		}
		if d := aws.ToString(im.Description); !regexp.MustCompile(`^Built \d{4}-\d\d-\d\d by al2$`).MatchString(d) {
			c.t.Errorf("image description %q", d)
		}
		if m := c.manifest("manifest.json"); len(m.Builds) != 1 || m.Builds[0].ArtifactID != "us-east-1:"+aws.ToString(im.ImageId) {
			c.t.Errorf("manifest.json: %+v", m)
		}
		conn := c.boot("us-east-1", aws.ToString(im.ImageId), "")
		if got := sshOutput(c.t, conn, "cat /etc/app.env"); got != "version=1.0.0\n" {
			c.t.Errorf("/etc/app.env in the image: %q", got)
		}
	}},
	{dir: "12-parameterstore", args: []string{"."}, check: func(c *corpusRun) {
		p, err := ssm.NewFromConfig(testenv.AWSConfig(c.cloud.URL(), "us-east-1")).GetParameter(context.Background(),
			&ssm.GetParameterInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")})
		c.must(err)
		im := c.onlyImage("us-east-1", `^corpus-ssm$`)
		if src := c.sourceIs(im, "al2023-ami-"); src != aws.ToString(p.Parameter.Value) {
			c.t.Errorf("built from %s, the parameter names %s", src, aws.ToString(p.Parameter.Value))
		}
	}},
	{dir: "13-shell-local-pp", args: []string{"."}, check: func(c *corpusRun) {
		c.outputHas("local before", `"artifact_id": "us-east-1:ami-`)
		im := c.onlyImage("us-east-1", `^corpus-pp$`)
		if m := c.manifest("out/manifest.json"); len(m.Builds) != 1 || m.Builds[0].ArtifactID != "us-east-1:"+aws.ToString(im.ImageId) {
			c.t.Errorf("out/manifest.json: %+v", m)
		}
		conn := c.boot("us-east-1", aws.ToString(im.ImageId), "")
		if got := sshOutput(c.t, conn, "cat /tmp/motd"); got != "built by imgbuild corpus\n" {
			c.t.Errorf("/tmp/motd in the image: %q", got)
		}
	}},
	{dir: "14-env-default", args: []string{"."}, env: []string{"AWS_DEFAULT_REGION=eu-west-1"}, check: func(c *corpusRun) {
		im := c.onlyImage("eu-west-1", `^corpus-env$`)
		c.sourceIs(im, "al2023-ami-2023.")
		if others := c.images("us-east-1"); len(others) != 0 {
			c.t.Errorf("images in us-east-1, want none: %v", slices.Sorted(maps.Keys(others)))
		}
	}},
	{dir: "18-region-from-env", args: []string{"."}, env: []string{"AWS_REGION=eu-west-1"}, check: func(c *corpusRun) {
		im := c.onlyImage("eu-west-1", `^corpus-noregion-\d{14}$`)
		c.sourceIs(im, "al2023-ami-2023.")
		if others := c.images("us-east-1"); len(others) != 0 {
			c.t.Errorf("images in us-east-1, want none: %v", slices.Sorted(maps.Keys(others)))
		}
	}},
	{dir: "16-dynamic-block", args: []string{"."}, check: func(c *corpusRun) {
		im := c.onlyImage("us-east-1", `^corpus-dynamic$`)
		c.sourceIs(im, "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240701")
		// On AWS the image would also map /dev/sdb and /dev/sdc with
		// snapshots of the launch volumes; the local cloud's CreateImage
		// (moto's) maps the root device only, so that is not checked here.
	}},
	{dir: "17-path-root", args: []string{"templates/al2023/template.pkr.hcl"}, check: func(c *corpusRun) {
		c.outputHas("amazon-ebs.al2023: install")
		c.onlyImage("us-east-1", `^corpus-path-root$`)
	}},
}

// corpusNotBuilt are the corpus templates TestPackerCorpusBuilds does not
// build, and why. TestPackerCorpusValidates validates them all.
var corpusNotBuilt = map[string]string{
	"04-windows-winrm": "Windows over WinRM: the local cloud's Windows guest runs no PowerShell " +
		"(Windows builds are tested by windows_test.go and nightly_example_test.go)",
	"06-bastion": "connects through bastion.example.com (an outside service) into a fixed subnet " +
		"ID (subnet-0123456789abcdef0) that no account has",
	"07-instance-store": "amazon-instance bundling for AWS's EC2 certificate (no ec2_cert_path), which " +
		"the local cloud cannot unbundle, from a fixed source_ami ID; instance-store builds are " +
		"tested by instance_test.go with the cloud's certificate",
	"15-data-http": "fetches https://example.com/authorized_keys at build time: an outside service",
}

// TestPackerCorpusBuilds builds, each in a parallel subtest on one local
// cloud, every corpus template that is Linux with its source on the
// catalogue, then checks the image (name, tags, source) and, where the
// template's provisioners leave content in it, boots an instance of it
// and looks. Every corpus directory is either built or listed in
// corpusNotBuilt with a reason.
func TestPackerCorpusBuilds(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", "examples", "packer-corpus"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]bool{}
	for _, b := range corpusBuilds {
		built[b.dir] = true
		if corpusNotBuilt[b.dir] != "" {
			t.Errorf("%s is both built and listed as not built", b.dir)
		}
	}
	for _, ent := range entries {
		if ent.IsDir() && !built[ent.Name()] && corpusNotBuilt[ent.Name()] == "" {
			t.Errorf("corpus template %s is neither built nor listed in corpusNotBuilt with a reason", ent.Name())
		}
	}
	for dir := range corpusNotBuilt {
		if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
			t.Errorf("corpusNotBuilt lists %s: %v", dir, err)
		}
	}

	t.Parallel()
	testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
	cloud := testenv.LocalCloud(t, profileSettings(t, "instant"))
	for _, cb := range corpusBuilds {
		t.Run(cb.dir, func(t *testing.T) {
			t.Parallel()
			e := e2eOn(t, cloud, "")
			e.must(os.CopyFS(e.dir, os.DirFS(filepath.Join(root, cb.dir))))
			cmd := e.command(append([]string{"build"}, cb.args...)...)
			cmd.Dir = e.dir
			cmd.Env = append(slices.Clone(e.env), cb.env...)
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("imgbuild build %s: %v\n%s\n%s", strings.Join(cb.args, " "), err, out.String(), errOut.String())
			}
			c := &corpusRun{e2e: e, out: out.String(), runID: runIDFrom(t, out.String())}
			cb.check(c)
			for _, r := range []string{"us-east-1", "eu-west-1"} {
				for _, left := range e.runResources(r, c.runID) {
					if !strings.HasPrefix(left, "image ") && !strings.HasPrefix(left, "snapshot ") {
						t.Errorf("%s: left behind: %s", r, left)
					}
				}
			}
		})
	}
}

// outputHas checks that the build's output contains each of wants.
func (c *corpusRun) outputHas(wants ...string) {
	c.t.Helper()
	for _, w := range wants {
		if !strings.Contains(c.out, w) {
			c.t.Errorf("build output lacks %q:\n%s", w, c.out)
		}
	}
}

// images returns the images the run made in region, by name.
func (c *corpusRun) images(region string) map[string]types.Image {
	c.t.Helper()
	out, err := c.ec2(region).DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:imgbuild:run-id"), Values: []string{c.runID}}}})
	c.must(err)
	m := map[string]types.Image{}
	for _, im := range out.Images {
		m[aws.ToString(im.Name)] = im
	}
	return m
}

// onlyImage returns the one image the run made in region, checking that
// its name matches the regular expression name, that it is available and
// that the build marked it complete.
func (c *corpusRun) onlyImage(region, name string) types.Image {
	c.t.Helper()
	images := c.images(region)
	if len(images) != 1 {
		c.t.Fatalf("%s: the run made images %v, want one named like %s", region, slices.Sorted(maps.Keys(images)), name)
	}
	for n, im := range images {
		if !regexp.MustCompile(name).MatchString(n) {
			c.t.Errorf("%s: image named %q, want %s", region, n, name)
		}
		if im.State != types.ImageStateAvailable || tagMap(im.Tags)["imgbuild:complete"] == "" {
			c.t.Errorf("%s: image %s is %s with tags %v", region, n, im.State, tagMap(im.Tags))
		}
		return im
	}
	panic("unreachable")
}

// sourceIs checks that the build said it started from a public image
// whose name starts with prefix and that this image exists in the image's
// region; it returns the source image's ID.
func (c *corpusRun) sourceIs(im types.Image, prefix string) string {
	c.t.Helper()
	m := regexp.MustCompile(`source image (ami-[0-9a-f]+) \(([^)]*)\) in (\S+)`).FindStringSubmatch(c.out)
	if m == nil {
		c.t.Fatalf("no source image in the output:\n%s", c.out)
	}
	if !strings.HasPrefix(m[2], prefix) {
		c.t.Errorf("source image %s is %q, want a name starting %q", m[1], m[2], prefix)
	}
	out, err := c.ec2(m[3]).DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{m[1]}})
	c.must(err)
	if len(out.Images) != 1 || aws.ToString(out.Images[0].Name) != m[2] || aws.ToString(out.Images[0].ImageId) == aws.ToString(im.ImageId) {
		c.t.Errorf("source image %s (%s) in %s: %+v", m[1], m[2], m[3], out.Images)
	}
	return m[1]
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// e2e is one end-to-end test's local cloud, working directory and the
// environment of the imgbuild processes it runs.
type e2e struct {
	t     testing.TB
	cloud *localcloud.Cloud
	dir   string
	// env is the imgbuild processes' environment: this process's, the
	// cloud's and the state directory; nil means this process's.
	env []string
	// bin is the imgbuild binary to run; "" means testBinary's.
	bin string
}

// newE2E starts a local cloud with the given profile (and overrides) for a
// test that runs in parallel with the other end-to-end tests: imgbuild
// runs as a separate process (e.imgbuild) given the cloud's environment,
// so this process's environment is left alone.
func newE2E(t *testing.T, profile string, sets ...string) *e2e {
	t.Helper()
	t.Parallel()
	testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
	return e2eOn(t, testenv.LocalCloud(t, profileSettings(t, profile, sets...)), "")
}

// profileSettings returns the settings of a local cloud profile with the
// "name=value" overrides sets.
func profileSettings(t *testing.T, profile string, sets ...string) localcloud.Settings {
	t.Helper()
	s, err := localcloud.ProfileSettings(profile)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range sets {
		k, v, _ := strings.Cut(kv, "=")
		if err := s.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// e2eOn returns an end-to-end test on cloud, in a fresh directory with its
// own state directory, running the imgbuild binary bin ("": testBinary's).
func e2eOn(t *testing.T, cloud *localcloud.Cloud, bin string) *e2e {
	dir := t.TempDir()
	env := append(os.Environ(), cloud.Env()...)
	env = append(env, "IMGBUILD_STATE_DIR="+filepath.Join(dir, "state"))
	return &e2e{t: t, cloud: cloud, dir: dir, env: env, bin: bin}
}

// write puts files into the test's directory.
func (e *e2e) write(files map[string]string) {
	e.t.Helper()
	for name, data := range files {
		p := filepath.Join(e.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
}

// imgbuild runs the CLI as a separate process in the test's environment
// and returns its exit code and output.
func (e *e2e) imgbuild(args ...string) (int, string, string) {
	e.t.Helper()
	cmd := e.command(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	case err != nil:
		e.t.Fatalf("imgbuild %v: %v", args, err)
	}
	return 0, out.String(), errOut.String()
}

// command returns the imgbuild command for args in the test's environment,
// run from the test's directory as a user runs it from their project:
// components' relative paths resolve against the working directory.
func (e *e2e) command(args ...string) *exec.Cmd {
	bin := e.bin
	if bin == "" {
		bin = testBinary(e.t)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = e.env
	cmd.Dir = e.dir
	return cmd
}

func (e *e2e) ec2(region string) *ec2.Client {
	return ec2.NewFromConfig(testenv.AWSConfig(e.cloud.URL(), region))
}

// manifest reads a manifest written by the manifest post-processor.
type manifestFile struct {
	Builds      []manifestBuild `json:"builds"`
	LastRunUUID string          `json:"last_run_uuid"`
}

// manifestBuild is one build of a manifest.
type manifestBuild struct {
	Name       string            `json:"name"`
	ArtifactID string            `json:"artifact_id"`
	RunUUID    string            `json:"packer_run_uuid"`
	CustomData map[string]string `json:"custom_data"`
	Images     []struct {
		Region    string   `json:"region"`
		ImageID   string   `json:"image_id"`
		Snapshots []string `json:"snapshot_ids"`
	} `json:"images"`
	Fingerprint string `json:"fingerprint"`
	Status      string `json:"status"`
	BootPayload string `json:"boot_payload"`
	SourceImage *struct {
		ImageID string `json:"image_id"`
	} `json:"source_image"`
}

func (e *e2e) manifest(name string) manifestFile {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, name))
	if err != nil {
		e.t.Fatal(err)
	}
	var m manifestFile
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("manifest: %v\n%s", err, b)
	}
	return m
}

// runResources lists what a run left in a region: instances not
// terminated, key pairs, security groups, volumes, images and snapshots
// carrying its run tag.
func (e *e2e) runResources(region, runID string) []string {
	e.t.Helper()
	return e.tagged(region, types.Filter{Name: aws.String("tag:imgbuild:run-id"), Values: []string{runID}})
}

// runImages lists images and snapshots with the run's tag in a region.
func (e *e2e) runImages(region, runID string) []string {
	var out []string
	for _, r := range e.runResources(region, runID) {
		if strings.HasPrefix(r, "image ") || strings.HasPrefix(r, "snapshot ") {
			out = append(out, r)
		}
	}
	return out
}

// anyRunResources lists everything carrying an imgbuild:run-id tag in a
// region; images and snapshots a finished build marked complete end in
// "(complete)".
func (e *e2e) anyRunResources(region string) []string {
	e.t.Helper()
	return e.tagged(region, types.Filter{Name: aws.String("tag-key"), Values: []string{"imgbuild:run-id"}})
}

// tagged lists the resources matching a tag filter in a region.
func (e *e2e) tagged(region string, f types.Filter) []string {
	ctx := context.Background()
	c := e.ec2(region)
	fs := []types.Filter{f}
	var left []string
	insts, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: fs})
	e.must(err)
	for _, r := range insts.Reservations {
		for _, i := range r.Instances {
			if i.State.Name != types.InstanceStateNameTerminated {
				left = append(left, "instance "+aws.ToString(i.InstanceId)+" "+string(i.State.Name))
			}
		}
	}
	kps, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: fs})
	e.must(err)
	for _, k := range kps.KeyPairs {
		left = append(left, "key pair "+aws.ToString(k.KeyName))
	}
	sgs, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: fs})
	e.must(err)
	for _, g := range sgs.SecurityGroups {
		left = append(left, "security group "+aws.ToString(g.GroupId))
	}
	vols, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: fs})
	e.must(err)
	for _, v := range vols.Volumes {
		left = append(left, "volume "+aws.ToString(v.VolumeId)+" "+string(v.State))
	}
	return append(left, e.taggedImages(c, fs)...)
}

func (e *e2e) taggedImages(c *ec2.Client, fs []types.Filter) []string {
	ctx := context.Background()
	var left []string
	ims, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: fs})
	e.must(err)
	for _, im := range ims.Images {
		left = append(left, "image "+aws.ToString(im.ImageId)+completeMark(im.Tags))
	}
	snaps, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: fs})
	e.must(err)
	for _, s := range snaps.Snapshots {
		left = append(left, "snapshot "+aws.ToString(s.SnapshotId)+completeMark(s.Tags))
	}
	return left
}

func (e *e2e) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// runIDFrom reads the run ID from the first line "==> Run <id> ...": the
// one printed when the run starts ("==> Run <id> started (journal ...)").
func runIDFrom(t *testing.T, stdout string) string {
	t.Helper()
	for _, line := range strings.Split(stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "==> Run "); ok {
			id, _, _ := strings.Cut(rest, " ")
			return id
		}
	}
	t.Fatalf("no run ID in output:\n%s", stdout)
	return ""
}

func completeMark(tags []types.Tag) string {
	if tagMap(tags)["imgbuild:complete"] != "" {
		return " (complete)"
	}
	return ""
}

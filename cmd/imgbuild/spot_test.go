package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestSpotBuild builds the corpus's spot template (spot_price = "auto",
// spot_instance_types, spot_allocation_strategy, spot_tags, fleet_tags,
// no instance_type) with `imgbuild build` on the local cloud, and checks
// that the instance came from an instant EC2 fleet through a temporary
// launch template, as Packer launches spot instances, each tagged at
// creation, that the image holds what the provisioner wrote, and that the
// instance, the fleet and the launch template are gone afterwards.
func TestSpotBuild(t *testing.T) {
	e := newE2E(t, "instant")
	e.must(os.CopyFS(e.dir, os.DirFS(filepath.Join("..", "..", "examples", "packer-corpus", "05-spot"))))
	cmd := e.command("build", ".")
	cmd.Dir = e.dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("imgbuild build: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	stats := e.cloud.Stats().Actions
	if stats["CreateFleet"] != 1 || stats["CreateLaunchTemplate"] != 1 || stats["RunInstances"] != 0 || stats["StopInstances"] != 0 {
		t.Errorf("CreateFleet %d, CreateLaunchTemplate %d, RunInstances %d, StopInstances %d: want one fleet, one template, "+
			"no RunInstances and no stop (a one-time spot instance cannot be stopped)",
			stats["CreateFleet"], stats["CreateLaunchTemplate"], stats["RunInstances"], stats["StopInstances"])
	}
	runID := runIDFrom(t, out)
	ctx := context.Background()
	c := e.ec2("us-east-1")

	m := regexp.MustCompile(`spot instance (i-[0-9a-f]+) launched in us-east-1 by fleet (fleet-[0-9a-f-]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no spot launch in the output:\n%s", out)
	}
	instID, fleetID := m[1], m[2]
	insts, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instID}})
	e.must(err)
	inst := insts.Reservations[0].Instances[0]
	it := tagMap(inst.Tags)
	if inst.InstanceLifecycle != types.InstanceLifecycleTypeSpot || inst.State.Name != types.InstanceStateNameTerminated ||
		it["Role"] != "spot-builder" || it["imgbuild:run-id"] != runID {
		t.Errorf("instance %s: lifecycle %q, state %s, tags %v; want a terminated spot instance with run_tags and the run tag",
			instID, inst.InstanceLifecycle, inst.State.Name, it)
	}
	sir := aws.ToString(inst.SpotInstanceRequestId)
	sirs, err := c.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{sir}})
	e.must(err)
	if len(sirs.SpotInstanceRequests) != 1 || tagMap(sirs.SpotInstanceRequests[0].Tags)["Name"] != "corpus-spot" {
		t.Errorf("spot instance request %q of %s: %+v, want it tagged with spot_tags", sir, instID, sirs.SpotInstanceRequests)
	}
	if ty := string(inst.InstanceType); ty != "t3.micro" && ty != "t3a.micro" {
		t.Errorf("instance type %s, not one of spot_instance_types", ty)
	}

	fleets, err := c.DescribeFleets(ctx, &ec2.DescribeFleetsInput{FleetIds: []string{fleetID}})
	e.must(err)
	if len(fleets.Fleets) != 1 {
		t.Fatalf("fleet %s: %+v", fleetID, fleets.Fleets)
	}
	f := fleets.Fleets[0]
	ft := tagMap(f.Tags)
	if f.Type != types.FleetTypeInstant || ft["Purpose"] != "corpus" || ft["imgbuild:run-id"] != runID || !strings.HasPrefix(string(f.FleetState), "deleted") {
		t.Errorf("fleet %s: type %s, state %s, tags %v; want an instant fleet with fleet_tags and the run tag, deleted", fleetID, f.Type, f.FleetState, ft)
	}
	if f.SpotOptions == nil || f.SpotOptions.AllocationStrategy != types.SpotAllocationStrategyPriceCapacityOptimized {
		t.Errorf("fleet spot options %+v, want price-capacity-optimized", f.SpotOptions)
	}
	var typeNames []string
	for _, cfg := range f.LaunchTemplateConfigs {
		for _, o := range cfg.Overrides {
			typeNames = append(typeNames, string(o.InstanceType))
		}
	}
	if strings.Join(typeNames, ",") != "t3.micro,t3a.micro" {
		t.Errorf("fleet overrides %v, want spot_instance_types", typeNames)
	}

	lts, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{
		Filters: []types.Filter{{Name: aws.String("tag:imgbuild:run-id"), Values: []string{runID}}}})
	e.must(err)
	if len(lts.LaunchTemplates) != 0 || stats["DeleteLaunchTemplate"] == 0 {
		t.Errorf("launch templates left: %+v (DeleteLaunchTemplate called %d times)", lts.LaunchTemplates, stats["DeleteLaunchTemplate"])
	}
	for _, left := range e.runResources("us-east-1", runID) {
		if !strings.HasPrefix(left, "image ") && !strings.HasPrefix(left, "snapshot ") {
			t.Errorf("left behind: %s", left)
		}
	}

	images, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:imgbuild:run-id"), Values: []string{runID}}}})
	e.must(err)
	if len(images.Images) != 1 || !regexp.MustCompile(`^corpus-spot-\d{14}$`).MatchString(aws.ToString(images.Images[0].Name)) {
		t.Fatalf("images %+v, want one corpus-spot-<timestamp>", images.Images)
	}
	conn := e.boot("us-east-1", aws.ToString(images.Images[0].ImageId), "")
	if got := sshOutput(t, conn, "cat /etc/spot-build"); got != "built on a spot instance\n" {
		t.Errorf("/etc/spot-build in the image: %q", got)
	}
}

// spotFaultPoints are the points of a spot launch where TestSpotCrashCleanup
// kills the build: each leaves the launch template, and then the fleet
// and its instance, journaled but not (or not yet) removed.
var spotFaultPoints = []faultPoint{
	{name: "launch template created, answer lost", action: "CreateLaunchTemplate", n: 1, phase: localcloud.AfterResponse},
	{name: "fleet created, answer lost", action: "CreateFleet", n: 1, phase: localcloud.AfterResponse},
	{name: "waiting for the spot instance", after: "CreateFleet", action: "DescribeInstances", n: 1},
}

// TestSpotCrashCleanup kills a spot build (SIGKILL) at each point of
// spotFaultPoints, then runs `imgbuild cleanup` from the journal or, with
// the state directory removed, by tags: the instance, the fleet and the
// launch template must all be gone, and a second cleanup has nothing to do.
func TestSpotCrashCleanup(t *testing.T) {
	var cases []faultCase
	for _, pt := range spotFaultPoints {
		for _, mode := range []string{"journal", "tags"} {
			cases = append(cases, faultCase{name: pt.name + "/" + mode, point: pt, mode: mode})
		}
	}
	runFaultCases(t, cases, func(t *testing.T, c faultCase) {
		testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
		f := &faultRun{point: c.point}
		f.onFire = func(cmd *exec.Cmd) localcloud.Verdict { _ = cmd.Process.Kill(); return localcloud.Drop }
		cloud := testenv.LocalCloudWith(t, localcloud.Options{Settings: profileSettings(t, localcloud.Instant), Intercept: f.intercept})
		e := e2eOn(t, cloud, imgbuildBinary(t))
		e.must(os.CopyFS(e.dir, os.DirFS(filepath.Join("..", "..", "examples", "packer-corpus", "05-spot"))))
		code, out := f.run(e)
		if code != 128+int(syscall.SIGKILL) {
			t.Fatalf("build exit %d, want death by SIGKILL\n%s", code, out)
		}
		runID := runIDFrom(t, out)
		if c.point.action == "CreateFleet" && len(spotLeftovers(e, runID)) == 0 {
			t.Fatalf("the killed build left nothing to clean up: the point is wrong\n%s", out)
		}
		args := []string{"cleanup"}
		if c.mode == "tags" {
			e.must(os.RemoveAll(filepath.Join(e.dir, "state")))
			args = append(args, "--tags", "--older-than", "0s")
			for _, r := range e2eRegions {
				args = append(args, "--region", r)
			}
		}
		code, cout, errOut := e.imgbuild(args...)
		if code != 0 {
			t.Fatalf("cleanup exit %d\n%s\n%s\nbuild said:\n%s", code, cout, errOut, out)
		}
		if left := spotLeftovers(e, runID); len(left) > 0 {
			t.Fatalf("left behind after cleanup: %v\ncleanup said:\n%s%s\nbuild said:\n%s", left, cout, errOut, out)
		}
		if code, o, eo := e.imgbuild(args...); code != 0 {
			t.Errorf("second cleanup exit %d, want 0 (idempotent)\n%s%s", code, o, eo)
		}
	})
}

// spotLeftovers lists what a spot run left in us-east-1: every resource
// with its run tag (instances not terminated, key pairs, groups, ...),
// its launch templates and its fleets not deleted.
func spotLeftovers(e *e2e, runID string) []string {
	ctx := context.Background()
	c := e.ec2("us-east-1")
	left := e.runResources("us-east-1", runID)
	lts, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{
		Filters: []types.Filter{{Name: aws.String("tag:imgbuild:run-id"), Values: []string{runID}}}})
	e.must(err)
	for _, lt := range lts.LaunchTemplates {
		left = append(left, "launch template "+aws.ToString(lt.LaunchTemplateId))
	}
	fleets, err := c.DescribeFleets(ctx, &ec2.DescribeFleetsInput{})
	e.must(err)
	for _, f := range fleets.Fleets {
		if tagMap(f.Tags)["imgbuild:run-id"] == runID && !strings.HasPrefix(string(f.FleetState), "deleted") {
			left = append(left, "fleet "+aws.ToString(f.FleetId)+" "+string(f.FleetState))
		}
	}
	return left
}

package retention_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/postprocessors/internal/pptest"
	"github.com/imgbuild/imgbuild/postprocessors/retention"
)

// TestRetentionLocalCloud: keep = 2 over three images of a recipe in two
// regions deletes the oldest with its snapshots in both, leaves another
// recipe's images alone, does nothing on a second run, and keeps an image
// an instance runs from.
func TestRetentionLocalCloud(t *testing.T) {
	cloud := pptest.Cloud(t)
	ctx := context.Background()
	const recipe = "app.amazon-ebs.web"
	var runs []*artifact.Artifact
	for _, name := range []string{"app-1", "app-2", "app-3", "app-4"} {
		if len(runs) > 0 {
			time.Sleep(1100 * time.Millisecond) // creation dates a second apart
		}
		runs = append(runs, pptest.RecipeImages(t, cloud, recipe, name))
	}
	other := pptest.RecipeImages(t, cloud, "other.amazon-ebs.web", "other-1")

	calls := &pptest.Calls{}
	c := &retention.Config{Keep: 2, Delete: true}
	c.SessionOptions = []awsapi.Option{awsapi.WithHTTPClient(calls.Client())}
	var out bytes.Buffer
	env := &artifact.Env{Out: &out, Now: time.Now()}

	// An instance runs from app-1 in us-east-1: kept there, and reported.
	east := pptest.EC2(cloud, "us-east-1")
	run, err := east.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(runs[0].ImageIDs()["us-east-1"]),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro})
	if err != nil {
		t.Fatal(err)
	}
	instance := aws.ToString(run.Instances[0].InstanceId)

	// Plan first: the same decisions, nothing changed.
	lines, err := c.PlanPostProcess(ctx, env, runs[3])
	if err != nil || len(lines) != 3 {
		t.Fatalf("plan: %q, %v; want 3 deletions", lines, err)
	}
	if m := calls.Mutating(); len(m) != 0 {
		t.Errorf("plan made mutating calls %v", m)
	}
	if _, err := c.PostProcess(ctx, env, runs[3]); err != nil {
		t.Fatal(err)
	}
	t.Logf("output:\n%s", out.String())
	for _, region := range pptest.Regions {
		cl := pptest.EC2(cloud, region)
		for i, run := range runs {
			im := run.Images[0]
			if im.Region != region {
				im = run.Images[1]
			}
			exists := pptest.Describe(t, cl, im.ImageID) != nil
			want := i >= 2 || (i == 0 && region == "us-east-1")
			if exists != want {
				t.Errorf("%s: image %d (%s) exists = %v, want %v", region, i+1, im.ImageID, exists, want)
			}
			for _, s := range im.Snapshots {
				if pptest.SnapshotExists(t, cl, s) != want {
					t.Errorf("%s: snapshot %s of image %d exists = %v, want %v", region, s, i+1, !want, want)
				}
			}
		}
		for _, im := range other.Images {
			if im.Region == region && pptest.Describe(t, cl, im.ImageID) == nil {
				t.Errorf("%s: the other recipe's image %s was deleted", region, im.ImageID)
			}
		}
	}
	if !strings.Contains(out.String(), "in us-east-1: used by instance "+instance) {
		t.Errorf("output does not report the image used by %s:\n%s", instance, out.String())
	}

	// Again: only the image in use is left beyond keep, and reported.
	calls.Reset()
	out.Reset()
	if _, err := c.PostProcess(ctx, env, runs[3]); err != nil {
		t.Fatal(err)
	}
	if m := calls.Mutating(); len(m) != 0 || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("second run: mutating calls %v, output %q; want none and one note", m, out.String())
	}
}

// TestDeprecateLocalCloud: without delete, images beyond keep are
// deprecated once; a second run changes nothing.
func TestDeprecateLocalCloud(t *testing.T) {
	cloud := pptest.Cloud(t)
	ctx := context.Background()
	first := pptest.RecipeImages(t, cloud, "app.amazon-ebs.web", "app-1")
	time.Sleep(1100 * time.Millisecond)
	last := pptest.RecipeImages(t, cloud, "app.amazon-ebs.web", "app-2")
	calls := &pptest.Calls{}
	c := &retention.Config{Keep: 1, DeprecateAfter: "168h"}
	c.SessionOptions = []awsapi.Option{awsapi.WithHTTPClient(calls.Client())}
	env := &artifact.Env{Now: time.Now()}
	if _, err := c.PostProcess(ctx, env, last); err != nil {
		t.Fatal(err)
	}
	for _, im := range first.Images {
		got := pptest.Describe(t, pptest.EC2(cloud, im.Region), im.ImageID)
		at, err := time.Parse(time.RFC3339, aws.ToString(got.DeprecationTime))
		if err != nil || at.Sub(env.Now) < 167*time.Hour || at.Sub(env.Now) > 169*time.Hour {
			t.Errorf("%s: %s deprecation time %q, want in a week", im.Region, im.ImageID, aws.ToString(got.DeprecationTime))
		}
	}
	calls.Reset()
	env.Now = env.Now.Add(time.Hour)
	if _, err := c.PostProcess(ctx, env, last); err != nil {
		t.Fatal(err)
	}
	if m := calls.Mutating(); len(m) != 0 {
		t.Errorf("second run: mutating calls %v", m)
	}
}

// TestKeptLocalCloud: an image with deregistration protection, and one a
// launch template's default version launches, are kept and reported
// instead of deleted.
func TestKeptLocalCloud(t *testing.T) {
	cloud := pptest.Cloud(t)
	ctx := context.Background()
	var runs []*artifact.Artifact
	for _, name := range []string{"app-1", "app-2", "app-3"} {
		if len(runs) > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		runs = append(runs, pptest.RecipeImages(t, cloud, "app.amazon-ebs.web", name))
	}
	west, east := pptest.EC2(cloud, "eu-west-1"), pptest.EC2(cloud, "us-east-1")
	protectedID := runs[0].ImageIDs()["eu-west-1"]
	if _, err := west.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(protectedID)}); err != nil {
		t.Fatal(err)
	}
	launchedID := runs[1].ImageIDs()["us-east-1"]
	if _, err := east.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("app"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(launchedID)}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &retention.Config{Keep: 1, Delete: true}
	if _, err := c.PostProcess(ctx, &artifact.Env{Out: &out, Now: time.Now()}, runs[2]); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cl     *ec2.Client
		id     string
		exists bool
	}{
		{west, protectedID, true}, {west, runs[1].ImageIDs()["eu-west-1"], false},
		{east, runs[0].ImageIDs()["us-east-1"], false}, {east, launchedID, true},
	} {
		if got := pptest.Describe(t, tt.cl, tt.id) != nil; got != tt.exists {
			t.Errorf("%s exists = %v, want %v", tt.id, got, tt.exists)
		}
	}
	for _, want := range []string{
		"kept " + protectedID + " (", "in eu-west-1: deregistration protection is enabled",
		"kept " + launchedID + " (", "in us-east-1: used by default version 1 of launch template app (lt-",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not say %q:\n%s", want, out.String())
		}
	}
}

package ssmparameter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/postprocessors/internal/pptest"
	"github.com/imgbuild/imgbuild/postprocessors/ssmparameter"
)

// TestPublishLocalCloud publishes an artifact of two regions, publishes
// it again without a single mutating call, then publishes a newer image.
func TestPublishLocalCloud(t *testing.T) {
	cloud := pptest.Cloud(t)
	ctx := context.Background()
	dir := t.TempDir()
	payload := "#!/bin/sh\necho app > /etc/app.conf\n"
	if err := os.WriteFile(filepath.Join(dir, "app.user-data"), []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := &pptest.Calls{}
	c := &ssmparameter.Config{Name: "/images/app/latest", BootPayloadName: "/images/app/boot-payload",
		Description: "app image", Tags: map[string]string{"team": "images"}}
	pc := &check.Context{}
	c.Prepare(pc)
	if pc.HasErrors() {
		t.Fatal(pc.Diags)
	}
	c.SessionOptions = []awsapi.Option{awsapi.WithHTTPClient(calls.Client())}

	a := pptest.RecipeImages(t, cloud, "app.amazon-ebs.web", "app-1")
	a.BootPayload = "app.user-data"
	var out bytes.Buffer
	env := &artifact.Env{Out: &out, BaseDir: dir, Now: time.Now()}
	if _, err := c.PostProcess(ctx, env, a); err != nil {
		t.Fatal(err)
	}
	check := func(a *artifact.Artifact) {
		t.Helper()
		for _, im := range a.Images {
			cl := pptest.SSM(cloud, im.Region)
			p, err := cl.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(c.Name)})
			if err != nil {
				t.Fatalf("%s: %v", im.Region, err)
			}
			if aws.ToString(p.Parameter.Value) != im.ImageID || aws.ToString(p.Parameter.DataType) != "aws:ec2:image" {
				t.Errorf("%s: %s = %s (%s), want %s (aws:ec2:image)", im.Region, c.Name, aws.ToString(p.Parameter.Value), aws.ToString(p.Parameter.DataType), im.ImageID)
			}
			bp, err := cl.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(c.BootPayloadName)})
			if err != nil || aws.ToString(bp.Parameter.Value) != payload {
				t.Errorf("%s: boot payload parameter %v, %v", im.Region, bp, err)
			}
			tl, err := cl.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(c.Name)})
			if err != nil || len(tl.TagList) != 1 || aws.ToString(tl.TagList[0].Value) != "images" {
				t.Errorf("%s: tags %v, %v", im.Region, tl, err)
			}
		}
	}
	check(a)
	if got := strings.Count(out.String(), "(new parameter)"); got != 4 {
		t.Errorf("output:\n%s\nwant 4 new parameters", out.String())
	}

	// Again: nothing to do, nothing written.
	calls.Reset()
	out.Reset()
	if lines, err := c.PlanPostProcess(ctx, env, a); err != nil || len(lines) != 0 {
		t.Errorf("plan of a published artifact: %q, %v", lines, err)
	}
	if _, err := c.PostProcess(ctx, env, a); err != nil {
		t.Fatal(err)
	}
	if m := calls.Mutating(); len(m) != 0 || out.Len() != 0 {
		t.Errorf("second run: mutating calls %v, output %q; want none", m, out.String())
	}

	// A newer image: plan says so, the run overwrites.
	time.Sleep(time.Second)
	b := pptest.RecipeImages(t, cloud, "app.amazon-ebs.web", "app-2")
	b.BootPayload = "app.user-data"
	lines, err := c.PlanPostProcess(ctx, env, b)
	if err != nil || len(lines) != 2 || !strings.Contains(lines[0], "put parameter /images/app/latest in eu-west-1: "+b.Images[0].ImageID+" (now "+a.Images[0].ImageID+")") {
		t.Errorf("plan of a newer image: %q, %v", lines, err)
	}
	if _, err := c.PostProcess(ctx, env, b); err != nil {
		t.Fatal(err)
	}
	check(b)
}

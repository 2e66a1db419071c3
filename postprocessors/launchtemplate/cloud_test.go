package launchtemplate_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/postprocessors/internal/pptest"
	"github.com/imgbuild/imgbuild/postprocessors/launchtemplate"
)

// TestPublishLocalCloud adds a default version launching the new image
// with the boot payload in two regions, does nothing on a second run, and
// names the region where the template is missing.
func TestPublishLocalCloud(t *testing.T) {
	cloud := pptest.Cloud(t)
	ctx := context.Background()
	dir := t.TempDir()
	payload := "#!/bin/sh\necho app > /etc/app.conf\n"
	if err := os.WriteFile(filepath.Join(dir, "app.user-data"), []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	old := pptest.RecipeImages(t, cloud, "app.amazon-ebs.web", "app-1")
	for _, im := range old.Images {
		_, err := pptest.EC2(cloud, im.Region).CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: aws.String("app"),
			LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(im.ImageID), InstanceType: types.InstanceTypeT3Micro},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	a := pptest.RecipeImages(t, cloud, "app.amazon-ebs.web", "app-2")
	a.BootPayload = "app.user-data"

	calls := &pptest.Calls{}
	c := &launchtemplate.Config{LaunchTemplateName: "app", SetDefault: true, VersionDescription: "app-2"}
	c.SessionOptions = []awsapi.Option{awsapi.WithHTTPClient(calls.Client())}
	var out bytes.Buffer
	env := &artifact.Env{Out: &out, BaseDir: dir, Now: time.Now()}
	if _, err := c.PostProcess(ctx, env, a); err != nil {
		t.Fatal(err)
	}
	for _, im := range a.Images {
		v, err := pptest.EC2(cloud, im.Region).DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
			LaunchTemplateName: aws.String("app"), Versions: []string{"$Default"}})
		if err != nil || len(v.LaunchTemplateVersions) != 1 {
			t.Fatalf("%s: %v, %v", im.Region, v, err)
		}
		d := v.LaunchTemplateVersions[0]
		ud, _ := base64.StdEncoding.DecodeString(aws.ToString(d.LaunchTemplateData.UserData))
		if aws.ToInt64(d.VersionNumber) != 2 || aws.ToString(d.LaunchTemplateData.ImageId) != im.ImageID || string(ud) != payload {
			t.Errorf("%s: default version %d launches %s with user data %q; want 2, %s, the payload",
				im.Region, aws.ToInt64(d.VersionNumber), aws.ToString(d.LaunchTemplateData.ImageId), ud, im.ImageID)
		}
		// The version is made from the latest: it keeps the rest.
		if d.LaunchTemplateData.InstanceType != types.InstanceTypeT3Micro {
			t.Errorf("%s: version 2 has instance type %q, want version 1's t3.micro", im.Region, d.LaunchTemplateData.InstanceType)
		}
	}
	if strings.Count(out.String(), "created version 2 of launch template app") != 2 {
		t.Errorf("output:\n%s", out.String())
	}

	calls.Reset()
	out.Reset()
	if lines, err := c.PlanPostProcess(ctx, env, a); err != nil || len(lines) != 0 {
		t.Errorf("plan: %q, %v; want nothing to do", lines, err)
	}
	if _, err := c.PostProcess(ctx, env, a); err != nil {
		t.Fatal(err)
	}
	if m := calls.Mutating(); len(m) != 0 || out.Len() != 0 {
		t.Errorf("second run: mutating calls %v, output %q; want none", m, out.String())
	}

	missing := &launchtemplate.Config{LaunchTemplateName: "other"}
	_, err := missing.PostProcess(ctx, env, a)
	if err == nil || !strings.Contains(err.Error(), "launch template other not found in eu-west-1") || !strings.Contains(err.Error(), "launch template other not found in us-east-1") {
		t.Errorf("missing template: %v", err)
	}
}

package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

var nightlyRegions = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}

// TestNightlyExample runs examples/nightly as the nightly job would:
// the first night builds the Windows base and the hybrid app layered on
// it in three regions and publishes both in SSM, with the app's boot
// payload; an instance launched from the app image with the payload as
// user data runs the deferred app layer at first boot. The second night
// changes nothing in AWS. After patch Tuesday (a newer Windows image),
// both are rebuilt and the parameters point at the new images.
func TestNightlyExample(t *testing.T) {
	e := newE2E(t, "instant")
	e.copyExample("nightly")
	night := func() map[string]manifestBuild {
		t.Helper()
		code, out, errOut := e.imgbuild("build", e.dir)
		if code != 0 {
			t.Fatalf("build: exit %d\n%s\n%s", code, out, errOut)
		}
		m := e.manifest("manifest.json")
		got := map[string]manifestBuild{}
		for _, b := range m.Builds {
			if b.RunUUID == m.LastRunUUID {
				got[b.Name] = b
			}
		}
		return got
	}
	first := night()
	base, app := first["base.amazon-ebs.base"], first["app.amazon-ebs.app"]
	if base.Status != "built" || app.Status != "built" || len(base.Images) != 3 || len(app.Images) != 3 {
		t.Fatalf("night 1: base %q %v, app %q %v", base.Status, base.Images, app.Status, app.Images)
	}
	payload, err := os.ReadFile(filepath.Join(e.dir, "app.amazon-ebs.app.user-data"))
	e.must(err)
	if app.BootPayload == "" || !strings.HasPrefix(string(payload), "<powershell>") || !strings.Contains(string(payload), "${env:APP_VERSION} = '1.4.2'") {
		t.Fatalf("boot payload %q:\n%s", app.BootPayload, payload)
	}
	e.checkParameters(base, app, string(payload))

	// The hybrid image configures itself at boot with the payload.
	inst, _ := e.launch("ap-southeast-2", imageIn(app, "ap-southeast-2"), "m5.large", "rsa", string(payload))
	ran := func() bool {
		if _, err := os.Stat(e.cloud.GuestLog("ap-southeast-2", aws.ToString(inst.InstanceId))); err != nil {
			return false // the guest has not booted yet
		}
		for _, ev := range e.guestLog("ap-southeast-2", aws.ToString(inst.InstanceId)) {
			if ev.Kind == "userdata" && strings.Contains(ev.Text, "imgbuild boot payload of app.amazon-ebs.app") {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(time.Minute)
	for !ran() && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if !ran() {
		t.Error("the instance launched with the boot payload did not run the app layer as user data")
	}

	// Night 2: nothing changed.
	before := maps.Clone(e.cloud.Stats().Actions)
	second := night()
	if m := mutatingCalls(before, e.cloud.Stats().Actions); len(m) != 0 {
		t.Errorf("night 2 made mutating calls: %v", m)
	}
	for name, b := range second {
		if b.Status != "up-to-date" || b.ArtifactID != first[name].ArtifactID {
			t.Errorf("night 2: %s %q %s, want up-to-date %s", name, b.Status, b.ArtifactID, first[name].ArtifactID)
		}
	}

	// Patch Tuesday: Amazon publishes a newer Windows image.
	_, err = e.cloud.PublishImage(context.Background(), localcloud.PublishRequest{
		Like: "Windows_Server-2022-English-Full-Base-", Name: "Windows_Server-2022-English-Full-Base-2026.12.09"})
	e.must(err)
	third := night()
	base3, app3 := third["base.amazon-ebs.base"], third["app.amazon-ebs.app"]
	if base3.Status != "built" || app3.Status != "built" || base3.ArtifactID == base.ArtifactID || app3.ArtifactID == app.ArtifactID {
		t.Fatalf("night 3: base %q %s, app %q %s", base3.Status, base3.ArtifactID, app3.Status, app3.ArtifactID)
	}
	if base3.SourceImage == nil || !strings.HasPrefix(base3.SourceImage.ImageID, "ami-") || base3.SourceImage.ImageID == base.SourceImage.ImageID {
		t.Errorf("night 3: the base's source %+v, was %+v", base3.SourceImage, base.SourceImage)
	}
	e.checkParameters(base3, app3, string(payload))
}

// checkParameters asserts that the SSM parameters of examples/nightly
// hold each region's image and the app's boot payload.
func (e *e2e) checkParameters(base, app manifestBuild, payload string) {
	e.t.Helper()
	for _, r := range nightlyRegions {
		c := ssm.NewFromConfig(testenv.AWSConfig(e.cloud.URL(), r))
		for name, want := range map[string]string{
			"/images/windows-base/latest":      imageIn(base, r),
			"/images/windows-app/latest":       imageIn(app, r),
			"/images/windows-app/boot-payload": payload,
		} {
			out, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name)})
			if err != nil {
				e.t.Errorf("%s: parameter %s: %v", r, name, err)
				continue
			}
			if got := aws.ToString(out.Parameter.Value); got != want || want == "" {
				e.t.Errorf("%s: parameter %s = %.60q, want %.60q", r, name, got, want)
			}
		}
	}
}

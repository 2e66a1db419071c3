package plan_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/template"
)

// layeredTemplate: app launches from base's image; %s is the app source's
// extra settings, %s the base's ami_regions.
const layeredTemplate = `
source "amazon-ebs" "base" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  communicator  = "none"
  source_ami    = "ami-12345678"
  ami_name      = "base"
  ami_regions   = [%s]
}
source "amazon-ebs" "app" {
  region        = "%s"
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "app"
  source_build  = "%s"
}
build {
  name    = "base"
  sources = ["source.amazon-ebs.base"]
}
build {
  name    = "app"
  sources = ["source.amazon-ebs.app"]
}
`

func loadPlan(t *testing.T, tpl string, sel plan.Selection) (*plan.Plan, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.pkr.hcl"), []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	tp, diags := template.Load(dir, template.Options{Getenv: func(string) string { return "" }, WorkDir: dir})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return plan.New(tp, sel)
}

// TestSourceBuildWaitsForTheRegion: the child's first step waits for the
// parent's step that makes the image available in the child's region: the
// image step in the parent's build region, the copy elsewhere.
func TestSourceBuildWaitsForTheRegion(t *testing.T) {
	for _, tt := range []struct{ region, dep string }{
		{"us-east-1", "base.amazon-ebs.base/create-image"},
		{"eu-west-1", "base.amazon-ebs.base/copy:eu-west-1"},
	} {
		p, err := loadPlan(t, strings.NewReplacer("[%s]", `["eu-west-1"]`, `"%s"`+"\n  instance_type", `"`+tt.region+`"`+"\n  instance_type",
			`source_build  = "%s"`, `source_build  = "base"`).Replace(layeredTemplate), plan.Selection{})
		if err != nil {
			t.Fatal(err)
		}
		app := p.Builds[1]
		if app.Parent != p.Builds[0] || app.ParentRegion != tt.region {
			t.Fatalf("%s: parent %v in %q", tt.region, app.Parent, app.ParentRegion)
		}
		if first := app.Steps[0]; !slices.Contains(first.Deps, tt.dep) {
			t.Errorf("%s: the app's first step %s waits for %v, want %s", tt.region, first.ID, first.Deps, tt.dep)
		}
		if layers := p.Layers(); layers[0].Name != "base.amazon-ebs.base" {
			t.Errorf("Layers: %s first", layers[0].Name)
		}
		// With the parent's image existing there, nothing to wait for.
		if err := p.Replan(map[string]map[string]builder.Found{"base.amazon-ebs.base": {
			"us-east-1": {}, "eu-west-1": {},
		}}); err != nil {
			t.Fatal(err)
		}
		if deps := p.Builds[1].Steps[0].Deps; len(deps) != 0 {
			t.Errorf("%s: with the parent up to date, the app still waits for %v", tt.region, deps)
		}
		if base := p.Builds[0]; len(base.Steps) != 1 || !strings.HasSuffix(base.Steps[0].ID, "/reuse") {
			t.Errorf("%s: the up-to-date parent plans %d steps", tt.region, len(base.Steps))
		}
	}
}

// TestSourceBuildRefused: an unknown build, the build itself, a parent
// that makes no image in the child's region, and a parent left out by
// -only are refused when the plan is made (validate).
func TestSourceBuildRefused(t *testing.T) {
	for _, tt := range []struct {
		name, regions, region, parent string
		sel                           plan.Selection
		want                          string
	}{
		{"unknown", `"eu-west-1"`, "us-east-1", "nope", plan.Selection{}, `no build "nope" in this run`},
		{"itself", `"eu-west-1"`, "us-east-1", "app", plan.Selection{}, "source_build names the build itself"},
		{"region", `"eu-west-1"`, "ap-southeast-2", "base", plan.Selection{}, "makes no image in ap-southeast-2"},
		{"only", `"eu-west-1"`, "us-east-1", "base", plan.Selection{Only: []string{"app.*"}}, `no build "base" in this run`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tpl := strings.NewReplacer("[%s]", "["+tt.regions+"]", `"%s"`+"\n  instance_type", `"`+tt.region+`"`+"\n  instance_type",
				`source_build  = "%s"`, `source_build  = "`+tt.parent+`"`).Replace(layeredTemplate)
			_, err := loadPlan(t, tpl, tt.sel)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "main.pkr.hcl:") {
				t.Errorf("error %v, want %q with the file and line", err, tt.want)
			}
		})
	}
}

// TestSourceBuildCycle: two builds that take each other's image are
// refused with the cycle's path.
func TestSourceBuildCycle(t *testing.T) {
	tpl := strings.NewReplacer(`source_ami    = "ami-12345678"`, `source_build  = "app"`, "[%s]", "[]",
		`"%s"`+"\n  instance_type", `"us-east-1"`+"\n  instance_type", `source_build  = "%s"`, `source_build  = "base"`).Replace(layeredTemplate)
	_, err := loadPlan(t, tpl, plan.Selection{})
	if err == nil || !strings.Contains(err.Error(), "source_build makes a cycle: ") {
		t.Errorf("error %v, want the cycle", err)
	}
}

// TestUpToDate: a build is up to date when every region it keeps an image
// in has one, which with skip_save_build_region leaves out the build
// region.
func TestUpToDate(t *testing.T) {
	tpl := strings.NewReplacer(`  ami_regions   = [%s]`, "  ami_regions   = [\"eu-west-1\"]\n  skip_save_build_region = true",
		`"%s"`+"\n  instance_type", `"eu-west-1"`+"\n  instance_type", `source_build  = "%s"`, `source_build  = "base"`).Replace(layeredTemplate)
	p, err := loadPlan(t, tpl, plan.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	base := p.Builds[0]
	for _, tt := range []struct {
		regions []string
		want    bool
	}{{nil, false}, {[]string{"us-east-1"}, false}, {[]string{"eu-west-1"}, true}} {
		existing := map[string]builder.Found{}
		for _, r := range tt.regions {
			existing[r] = builder.Found{}
		}
		got, err := plan.UpToDate(base, existing)
		if err != nil || got != tt.want {
			t.Errorf("images in %v: up to date %v, %v; want %v", tt.regions, got, err, tt.want)
		}
	}
	if len(base.Existing) != 0 || !strings.HasSuffix(base.Steps[0].ID, "/resolve-source") {
		t.Error("UpToDate changed the plan")
	}
}

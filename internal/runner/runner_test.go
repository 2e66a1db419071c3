package runner

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// unknownConfig is a source config no builder runs.
type unknownConfig struct{}

func (unknownConfig) Prepare(*check.Context) {}

// TestRunShowsRunIDFirst: the run ID and journal are on the output before
// any builder starts, so a run killed at any point has shown them; here
// the run stops at its first builder.
func TestRunShowsRunIDFirst(t *testing.T) {
	out := &bytes.Buffer{}
	dir := t.TempDir()
	p := &plan.Plan{Builds: []*plan.BuildPlan{{Name: "web", Use: &template.SourceUse{Config: unknownConfig{}, Source: &template.Source{Type: "unknown"}}}}}
	_, err := Run(context.Background(), Options{
		Template: &template.Template{Path: "x.pkr.hcl", Dir: dir, WorkDir: dir}, Plan: p, StateDir: dir,
		UI: ui.New(out, out), Logger: hclog.NewNullLogger(),
	})
	if err == nil {
		t.Fatal("Run of an unknown builder succeeded")
	}
	m := regexp.MustCompile(`\A==> Run (\S+) started \(journal (\S+)\)\n\z`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output %q, want one line \"==> Run <id> started (journal <path>)\"", out)
	}
	if _, err := os.Stat(m[2]); err != nil {
		t.Errorf("journal named on the output: %v", err)
	}
}

package instance

import (
	"testing"

	"github.com/imgbuild/imgbuild/builders/amazon/steps"
	"github.com/imgbuild/imgbuild/internal/builder"
)

// planner records the steps a builder adds.
type planner struct{ steps []*builder.Step }

func (p *planner) Add(s *builder.Step, after ...*builder.Step) *builder.Step {
	for _, a := range after {
		s.Deps = append(s.Deps, a.ID)
	}
	p.steps = append(p.steps, s)
	return s
}
func (p *planner) Provisioners(last *builder.Step) *builder.Step { return last }
func (p *planner) PostProcessors(*builder.Step)                  {}
func (p *planner) Existing() map[string]builder.Found            { return nil }

// TestPlan checks the step order: the bucket check before anything is
// created, the bundle after the provisioners, then the register and the
// regions; no stop step (the instance is bundled while it runs).
func TestPlan(t *testing.T) {
	c := valid()
	c.AMIRegions = []string{"eu-west-1"}
	c.S3Bucket = "bundles"
	p := &planner{}
	if err := (Builder{}).Plan(&c, p); err != nil {
		t.Fatal(err)
	}
	after := map[string][]string{}
	var kinds []builder.StepKind
	for _, s := range p.steps {
		after[s.ID] = s.Deps
		kinds = append(kinds, s.Kind)
	}
	has := func(id, dep string) bool {
		for _, a := range after[id] {
			if a == dep {
				return true
			}
		}
		return false
	}
	for _, w := range [][2]string{{"key-pair", "check-bucket"}, {"security-group", "check-bucket"}, {"launch", "check-bucket"},
		{"check-bucket", "resolve-source"}, {"bundle", "connect"}, {"register-bundle", "bundle"}, {"copy:eu-west-1", "register-bundle"}} {
		if !has(w[0], w[1]) {
			t.Errorf("%s does not wait for %s: %v", w[0], w[1], after[w[0]])
		}
	}
	for _, k := range kinds {
		if k == steps.Stop || k == steps.CreateImage {
			t.Errorf("planned %s: %v", k, kinds)
		}
	}
}

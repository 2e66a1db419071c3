package plan

import (
	"fmt"
	"strconv"

	"github.com/imgbuild/imgbuild/internal/bootpayload"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/template"
)

// planBuild fills in the steps of one build: its builder, looked up by the
// source's component, adds its own steps and says where the provisioners
// and post-processors go.
func planBuild(bp *BuildPlan) error {
	b := bp.Use.Source.Component.Builder
	if b == nil {
		return fmt.Errorf("%s is not a builder", bp.Use.Type())
	}
	bp.Strategy = bp.Use.EffectiveStrategy(bp.Build)
	bp.Baked = nil
	for _, prov := range bp.Build.Provisioners {
		if prov.AppliesTo(bp.Use.UseName()) && template.Bakes(bp.Strategy, prov.Layer) {
			bp.Baked = append(bp.Baked, prov)
		}
	}
	return b.Plan(bp.Use.Config, &planner{bp: bp})
}

// compilePayload compiles the provisioners the build's strategy defers
// into its boot payload (bp.BootPayload) and checks it against the
// post-processors that publish it; baseDir is the template directory.
// Errors name the provisioner's or post-processor's file and line.
func compilePayload(bp *BuildPlan, baseDir string) error {
	use := bp.Use.UseName()
	var parts []bootpayload.Part
	for _, prov := range bp.Build.Provisioners {
		if !prov.AppliesTo(use) || template.Bakes(bp.Strategy, prov.Layer) {
			continue
		}
		rng := prov.DeclRange
		parts = append(parts, bootpayload.Part{Type: prov.Type, Name: prov.Name,
			Where:       fmt.Sprintf("%s:%d", bootpayload.Relative(baseDir, rng.Filename), rng.Start.Line),
			PauseBefore: prov.PauseBefore, Config: prov.Configs[use]})
	}
	payload, err := bootpayload.Compile(bootpayload.Target{BuildName: bp.Name, BuilderType: bp.Use.Type(),
		Windows: bp.Use.Windows(), BaseDir: baseDir, Strategy: bp.Strategy}, parts)
	if err != nil {
		return fmt.Errorf("boot payload: %w", err)
	}
	bp.BootPayload = payload
	return checkPayload(bp, baseDir)
}

// checkPayload asks each post-processor of the build that publishes the
// boot payload whether it can take it, so that a payload it would refuse
// once the image is made is refused when the build is planned (validate).
// Errors name the post-processor's file and line.
func checkPayload(bp *BuildPlan, baseDir string) error {
	if len(bp.BootPayload) == 0 {
		return nil
	}
	for _, chain := range bp.Build.PostProcessors {
		for _, pp := range chain {
			c, ok := pp.Config.(interface{ CheckBootPayload([]byte) error })
			if !ok || !pp.AppliesTo(bp.Use.UseName()) {
				continue
			}
			if err := c.CheckBootPayload(bp.BootPayload); err != nil {
				return fmt.Errorf("post-processor %q (%s:%d): %w", pp.Type, bootpayload.Relative(baseDir, pp.DeclRange.Filename), pp.DeclRange.Start.Line, err)
			}
		}
	}
	return nil
}

// planner is the builder.Planner of one build plan.
type planner struct{ bp *BuildPlan }

// Add appends a builder step.
func (p *planner) Add(s *builder.Step, after ...*builder.Step) *builder.Step {
	return &p.add(&Step{Step: *s}, after...).Step
}

// add appends s, prefixing its ID with the build name, after the steps in
// after.
func (p *planner) add(s *Step, after ...*builder.Step) *Step {
	s.ID = p.bp.Name + "/" + s.ID
	s.Deps = make([]string, len(after))
	for i, a := range after {
		s.Deps[i] = a.ID
	}
	p.bp.Steps = append(p.bp.Steps, s)
	return s
}

// Provisioners appends a step per provisioner that applies to the build
// and that its strategy bakes; the others go to the boot payload.
func (p *planner) Provisioners(last *builder.Step) *builder.Step {
	use := p.bp.Use.UseName()
	for i, prov := range p.bp.Build.Provisioners {
		if !prov.AppliesTo(use) || !template.Bakes(p.bp.Strategy, prov.Layer) {
			continue
		}
		label := "provisioner " + prov.Type
		if prov.Name != "" {
			label += " " + strconv.Quote(prov.Name)
		}
		s := &Step{Step: builder.Step{ID: fmt.Sprintf("%s:%d", Provision, i+1), Kind: Provision, Label: label,
			StopsInstance: stopsInstance(prov.Configs[use])}, Provisioner: prov}
		last = &p.add(s, last).Step
	}
	return last
}

// stopsInstance reports whether a provisioner's configuration shuts the
// instance down as its last act (sysprep).
func stopsInstance(cfg any) bool {
	s, ok := cfg.(interface{ StopsInstance() bool })
	return ok && s.StopsInstance()
}

// PostProcessors appends every chain of post-processors that apply to the
// build, each chain after last.
func (p *planner) PostProcessors(last *builder.Step) {
	use := p.bp.Use.UseName()
	for ci, chain := range p.bp.Build.PostProcessors {
		prev := last
		for i, pp := range chain {
			if !pp.AppliesTo(use) {
				continue
			}
			s := &Step{Step: builder.Step{ID: fmt.Sprintf("%s:%d.%d", PostProcess, ci+1, i+1), Kind: PostProcess,
				Label: "post-processor " + pp.Type}, PostProcessor: pp}
			prev = &p.add(s, prev).Step
		}
	}
}

package runner

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/lease"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// newBuild starts the build of one build plan with the builder of its
// source's component.
func newBuild(ctx context.Context, env *builder.Env, bp *plan.BuildPlan) (builder.Build, error) {
	b := bp.Use.Source.Component.Builder
	if b == nil {
		return nil, fmt.Errorf("%s is not a builder", bp.Use.Type())
	}
	return b.Start(ctx, env, bp.Use.Config)
}

// addBuilds starts every build's builder, surveys the builds (their
// fingerprints and the images that exist already), and adds a node per
// step of the plan that results.
func (r *run) addBuilds(ctx context.Context) error {
	for _, bp := range r.opts.Plan.Builds {
		env := r.buildEnv(bp)
		b, err := newBuild(ctx, env, bp)
		if err != nil {
			return fmt.Errorf("start build %s: %w", bp.Name, err)
		}
		r.builds[bp.Name] = &buildRun{plan: bp, build: b, env: env, chains: map[int]*artifact.Artifact{}, payloadDir: r.opts.Template.WorkDir}
	}
	started := make(map[string]builder.Build, len(r.builds))
	for name, br := range r.builds {
		started[name] = br.build
	}
	surveys, err := survey(ctx, r.opts.Plan, started, r.opts.Template.WorkDir, r.opts.UI.Masker().Mask, r.opts.Force, r.lock)
	if err != nil {
		return fmt.Errorf("survey the builds: %w", err)
	}
	for _, bp := range r.opts.Plan.Builds {
		br := r.builds[bp.Name]
		br.env.Fingerprint = surveys[bp.Name].Fingerprint
		if bp.Parent != nil {
			br.env.ParentImage = r.parentImage(bp.Parent)
		}
		r.opts.Logger.Debug("survey", "build", bp.Name, "fingerprint", br.env.Fingerprint, "status", status(bp))
		for _, s := range bp.Steps {
			n, err := r.node(br, s)
			if err != nil {
				return fmt.Errorf("plan %s: %w", s.ID, err)
			}
			if r.asker != nil {
				n = r.asker.wrap(s.ID, bp.Name, n)
			}
			if r.debug != nil {
				n = r.debug.wrap(s.ID, bp.Name, n)
			}
			if err := r.graph.Add(s.ID, bp.Name, n, s.Deps...); err != nil {
				return err
			}
		}
	}
	return r.graph.Validate()
}

// lock takes the lease of a build's fingerprint, when its builder keeps
// leases, waiting while another runner holds it. The run releases the
// leases when it ends.
func (r *run) lock(ctx context.Context, bp *plan.BuildPlan, s *Survey) (bool, error) {
	br := r.builds[bp.Name]
	l, ok := br.build.(builder.Leaser)
	if !ok {
		return false, nil
	}
	holder := lease.Who(r.journal.RunID())
	waited := false
	release, err := l.Lease(ctx, s.Fingerprint, holder, func(h string) {
		if !waited {
			br.env.Say("waiting: another runner is building this fingerprint (%s)", h)
		}
		waited = true
	})
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	r.releases = append(r.releases, release)
	r.mu.Unlock()
	return waited, nil
}

// parentImage returns the function that gives a child build the image of
// its parent in a region; the child's first step runs after the parent's
// step that makes it available there (plan.Plan link).
func (r *run) parentImage(parent *plan.BuildPlan) func(region string) (string, error) {
	return func(region string) (string, error) {
		sv, ok := r.builds[parent.Name].build.(builder.Surveyor)
		if !ok {
			return "", fmt.Errorf("build %s cannot hand its image on", parent.Name)
		}
		if id := sv.ImageIn(region); id != "" {
			return id, nil
		}
		return "", fmt.Errorf("build %s has no image in %s", parent.Name, region)
	}
}

func (r *run) buildEnv(bp *plan.BuildPlan) *builder.Env {
	name := bp.Name
	return &builder.Env{
		RunID: r.journal.RunID(), BuildName: name, Journal: r.journal, Debug: r.opts.Debug,
		Say:       func(format string, args ...any) { r.opts.UI.Sayf(name, format, args...) },
		Out:       r.opts.UI.LineWriter(name),
		Logger:    r.opts.Logger.Named(name),
		BaseDir:   r.opts.Template.WorkDir,
		Now:       r.opts.Template.Now,
		AddSecret: func(s string) { r.opts.UI.Masker().Add(s) },
		Progress: func(task string, pct int) {
			r.progress.Report(name, task, pct)
			if pct >= 100 {
				r.progress.Done(name, task)
			}
		},
		Retry: func(line string) { r.opts.UI.Sayf(name, "%s", line) },
	}
}

// node returns the DAG node of one step.
func (r *run) node(br *buildRun, s *plan.Step) (dag.Node, error) {
	switch s.Kind {
	case plan.Provision:
		return &provisionStep{br: br, step: s, ui: r.opts.UI, runsErrorCleanup: r.runsErrorCleanup()}, nil
	case plan.PostProcess:
		return &postProcessStep{br: br, step: s}, nil
	default:
		return br.build.Node(&s.Step)
	}
}

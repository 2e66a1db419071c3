package runner

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/dag"
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

// addBuilds creates every build's builder and adds a node per plan step.
func (r *run) addBuilds(ctx context.Context) error {
	for _, bp := range r.opts.Plan.Builds {
		env := r.buildEnv(bp)
		b, err := newBuild(ctx, env, bp)
		if err != nil {
			return fmt.Errorf("start build %s: %w", bp.Name, err)
		}
		br := &buildRun{plan: bp, build: b, env: env, chains: map[int]*artifact.Artifact{}}
		r.builds[bp.Name] = br
		for _, s := range bp.Steps {
			n, err := r.node(br, s)
			if err != nil {
				return fmt.Errorf("plan %s: %w", s.ID, err)
			}
			if err := r.graph.Add(s.ID, bp.Name, n, s.Deps...); err != nil {
				return err
			}
		}
	}
	return r.graph.Validate()
}

func (r *run) buildEnv(bp *plan.BuildPlan) *builder.Env {
	name := bp.Name
	return &builder.Env{
		RunID: r.journal.RunID(), BuildName: name, Journal: r.journal,
		Say:       func(format string, args ...any) { r.opts.UI.Sayf(name, format, args...) },
		Out:       r.opts.UI.LineWriter(name),
		Logger:    r.opts.Logger.Named(name),
		BaseDir:   r.opts.Template.Dir,
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
		return &provisionStep{br: br, step: s, ui: r.opts.UI}, nil
	case plan.PostProcess:
		return &postProcessStep{br: br, step: s}, nil
	default:
		return br.build.Node(&s.Step)
	}
}

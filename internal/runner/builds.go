package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/imgbuild/imgbuild/builders/amazon/ebs"
	"github.com/imgbuild/imgbuild/builders/amazon/ebs/ebsbuild"
	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/registry"
)

// newBuild starts the builder of one build. This is the one place that
// knows which builder runs which source type.
func newBuild(ctx context.Context, env *builder.Env, cfg registry.Config) (builder.Build, error) {
	switch c := cfg.(type) {
	case *ebs.Config:
		return ebsbuild.NewBuild(ctx, env, c)
	default:
		return nil, fmt.Errorf("this version cannot run %T builds", cfg)
	}
}

// addBuilds creates every build's builder and adds a node per plan step.
func (r *run) addBuilds(ctx context.Context) error {
	for _, bp := range r.opts.Plan.Builds {
		env := r.buildEnv(bp)
		b, err := newBuild(ctx, env, bp.Use.Config)
		if err != nil {
			return fmt.Errorf("start build %s: %w", bp.Name, err)
		}
		br := &buildRun{plan: bp, build: b, env: env, started: time.Now(), chains: map[int]*artifact.Artifact{}}
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
		return br.build.Node(s)
	}
}

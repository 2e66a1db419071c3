package runner

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/fingerprint"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// surveyParallelism bounds the builds surveyed at once. Each survey makes
// a Describe call in the build region and one per region it keeps an
// image in; the shared rate limiter paces them.
const surveyParallelism = 16

// Survey is what the survey found of one build before the run.
type Survey struct {
	Fingerprint string
	// Source is the resolved source image ID; "" when the source is
	// another build's image.
	Source string
	// Existing are the complete images of the fingerprint by region (nil
	// when forced or when the builder cannot look).
	Existing map[string]builder.Found
}

// locker takes the lease of a build that has work to do; waited says the
// lease was held by another runner, whose images may now exist.
type locker func(ctx context.Context, bp *plan.BuildPlan, s *Survey) (waited bool, err error)

// survey computes every build's fingerprint, parents first, and unless
// forced finds the images each already has; then it plans the builds
// again with what exists. With lock, a build that has work to do takes
// its fingerprint's lease first, and looks again for its images when it
// had to wait for another runner. It creates nothing but the leases.
func survey(ctx context.Context, p *plan.Plan, builds map[string]builder.Build, baseDir string,
	mask func(string) string, force bool, lock locker) (map[string]*Survey, error) {
	out := make(map[string]*Survey, len(p.Builds))
	var mu sync.Mutex
	for _, wave := range waves(p) {
		eg, ctx := errgroup.WithContext(ctx)
		eg.SetLimit(surveyParallelism)
		for _, bp := range wave {
			eg.Go(func() error {
				mu.Lock()
				var parentFP string
				if bp.Parent != nil {
					parentFP = out[bp.Parent.Name].Fingerprint
				}
				mu.Unlock()
				s, err := surveyBuild(ctx, bp, builds[bp.Name], parentFP, baseDir, mask, force)
				if err != nil {
					return fmt.Errorf("%s: %w", bp.Name, err)
				}
				done, err := plan.UpToDate(bp, s.Existing)
				if err != nil {
					return err
				}
				if lock != nil && s.Fingerprint != "" && !done {
					waited, err := lock(ctx, bp, s)
					if err != nil {
						return fmt.Errorf("%s: lease: %w", bp.Name, err)
					}
					if waited && !force {
						if s.Existing, err = builds[bp.Name].(builder.Surveyor).FindBuilt(ctx, s.Fingerprint); err != nil {
							return fmt.Errorf("%s: %w", bp.Name, err)
						}
					}
				}
				mu.Lock()
				out[bp.Name] = s
				mu.Unlock()
				return nil
			})
		}
		if err := eg.Wait(); err != nil {
			return nil, err
		}
	}
	existing := make(map[string]map[string]builder.Found, len(out))
	for name, s := range out {
		if len(s.Existing) > 0 {
			existing[name] = s.Existing
		}
	}
	if err := p.Replan(existing); err != nil {
		return nil, err
	}
	return out, nil
}

// surveyBuild resolves one build's source, computes its fingerprint and
// finds its images.
func surveyBuild(ctx context.Context, bp *plan.BuildPlan, b builder.Build, parentFP, baseDir string,
	mask func(string) string, force bool) (*Survey, error) {
	sv, ok := b.(builder.Surveyor)
	if !ok {
		return &Survey{}, nil
	}
	s := &Survey{}
	if bp.Parent == nil {
		id, err := sv.ResolveSource(ctx)
		if err != nil {
			return nil, err
		}
		s.Source = id
	}
	fp, err := Fingerprint(bp, s.Source, parentFP, baseDir, mask)
	if err != nil {
		return nil, err
	}
	s.Fingerprint = fp
	if force {
		return s, nil
	}
	if s.Existing, err = sv.FindBuilt(ctx, fp); err != nil {
		return nil, err
	}
	return s, nil
}

// Fingerprint hashes what determines the image of a build: its builder
// type and configuration, its source (the resolved image ID, or the
// parent build's fingerprint), and every provisioner the plan runs on the
// instance with its settings and the files it reads. Provisioners the
// strategy defers to the boot payload are not in the image and not in
// the fingerprint.
func Fingerprint(bp *plan.BuildPlan, source, parentFP, baseDir string, mask func(string) string) (string, error) {
	h := fingerprint.New(mask)
	h.Add("builder", bp.Use.Type())
	if parentFP != "" {
		h.Add("source", "build:"+parentFP)
	} else {
		h.Add("source", source)
	}
	h.Config("source "+bp.Use.UseName(), bp.Use.Config, baseDir)
	h.Add("strategy", bp.Strategy)
	use := bp.Use.UseName()
	for _, s := range bp.Steps {
		if s.Kind != plan.Provision {
			continue
		}
		pr := s.Provisioner
		h.Add("provisioner", pr.Type)
		h.Add("layer", pr.Layer)
		h.Config("provisioner "+pr.Type, pr.Configs[use], baseDir)
	}
	return h.Sum()
}

// waves groups the builds by depth of source_build: every build's parent
// is in an earlier wave.
func waves(p *plan.Plan) [][]*plan.BuildPlan {
	depth := map[*plan.BuildPlan]int{}
	var out [][]*plan.BuildPlan
	for _, bp := range p.Layers() {
		d := 0
		if bp.Parent != nil {
			d = depth[bp.Parent] + 1
		}
		depth[bp] = d
		for len(out) <= d {
			out = append(out, nil)
		}
		out[d] = append(out[d], bp)
	}
	return out
}

// status says how a build's images came to be.
func status(bp *plan.BuildPlan) string {
	switch {
	case bp.Existing == nil:
		return artifact.StatusBuilt
	case bp.MakesImage():
		return artifact.StatusCompleted
	}
	return artifact.StatusUpToDate
}

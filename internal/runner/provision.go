package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// provisionStep runs one provisioner of a build, honouring pause_before,
// timeout and max_retries. When it fails for good, the build's
// error-cleanup-provisioner runs before the failure is reported (unless
// the run aborts without cleanup).
type provisionStep struct {
	br   *buildRun
	step *plan.Step
	ui   *ui.UI
	// runsErrorCleanup is false with -on-error=abort, which (as in
	// Packer) leaves everything as the failure left it, and with
	// -on-error=ask, where it runs only if the user chooses to clean up.
	runsErrorCleanup bool
}

// Run runs the provisioner.
func (p *provisionStep) Run(ctx context.Context) error {
	prov := p.step.Provisioner
	err := p.runWithRetries(ctx, prov)
	if err == nil {
		return nil
	}
	if p.runsErrorCleanup {
		p.errorCleanup(ctx)
	}
	return err
}

// errorCleanup runs the build's error-cleanup-provisioner, if it has one,
// after the provisioner failed.
func (p *provisionStep) errorCleanup(ctx context.Context) {
	if ec := p.br.plan.Build.ErrorCleanup; ec != nil && ctx.Err() == nil {
		p.br.env.Say("provisioner %s failed; running the error-cleanup-provisioner %s", p.step.Provisioner.Type, ec.Type)
		if cerr := p.runOnce(ctx, ec); cerr != nil {
			p.br.env.Say("error-cleanup-provisioner failed: %v", cerr)
		}
	}
}

func (p *provisionStep) runWithRetries(ctx context.Context, prov *template.Provisioner) error {
	if prov.PauseBefore > 0 {
		p.br.env.Say("pausing %s before provisioner %s", prov.PauseBefore, prov.Type)
		if err := sleep(ctx, prov.PauseBefore); err != nil {
			return err
		}
	}
	var err error
	for attempt := 0; attempt <= prov.MaxRetries; attempt++ {
		if attempt > 0 {
			p.br.env.Say("provisioner %s failed (%v); retry %d of %d", prov.Type, err, attempt, prov.MaxRetries)
		}
		if err = p.runOnce(ctx, prov); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// runOnce runs a provisioner once, within its timeout.
func (p *provisionStep) runOnce(ctx context.Context, prov *template.Provisioner) error {
	cfg, ok := prov.Configs[p.br.plan.Use.UseName()].(provision.Provisioner)
	if !ok {
		return fmt.Errorf("provisioner %s cannot run in this version", prov.Type)
	}
	if prov.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, prov.Timeout)
		defer cancel()
	}
	p.br.env.Say("provisioning with %s%s", prov.Type, named(prov.Name))
	out := p.ui.LineWriter(p.br.plan.Name)
	defer out.Close()
	data := p.br.build.Data()
	data.BuildRegion = p.step.Region
	if data.BuildRegion == "" {
		data.BuildRegion = regionOf(p.br.plan)
	}
	cfg = withBuildValues(cfg, data)
	err := cfg.Provision(ctx, &provision.Env{
		Comm: p.br.build.Communicator(), Out: out, Data: data, BuildName: p.br.plan.Name,
		BuilderType: p.br.plan.Use.Type(), BaseDir: p.br.env.BaseDir, Logger: p.br.env.Logger,
	})
	if err != nil && prov.Timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("provisioner %s timed out after %s: %w", prov.Type, prov.Timeout, err)
	}
	if err != nil {
		return fmt.Errorf("provisioner %s%s: %w", prov.Type, named(prov.Name), err)
	}
	return nil
}

func named(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" %q", name)
}

// regionOf returns the build region of a plan (its first regional step).
func regionOf(bp *plan.BuildPlan) string {
	for _, s := range bp.Steps {
		if s.Region != "" {
			return s.Region
		}
	}
	return ""
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

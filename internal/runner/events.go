package runner

import (
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// onEvent turns walker events into progress lines and machine-readable
// events. It is called concurrently from the walker.
func (r *run) onEvent(ev dag.Event) {
	br := r.builds[ev.Group]
	if br == nil {
		return
	}
	step := r.opts.Plan.Step(ev.ID)
	if step == nil {
		return
	}
	u := r.opts.UI
	switch ev.Kind {
	case dag.NodeStarted:
		u.Event(ev.Group, "step-start", string(step.Kind), step.Region)
		if step.Kind != plan.Provision && step.Kind != plan.PostProcess {
			u.Sayf(ev.Group, "%s", step.Label)
		}
	case dag.NodeFinished:
		u.Event(ev.Group, "step-end", string(step.Kind), step.Region, ev.Status.String())
		if ev.Status != dag.Succeeded {
			br.markFailed()
		}
		if ev.Status == dag.Failed && ev.Err != nil {
			u.Sayf(ev.Group, "failed: %v", ev.Err)
		}
		if ev.Status == dag.Failed && r.abort != nil && r.abortsOn(ev.ID) {
			r.abortOnce.Do(func() {
				u.Sayf(ev.Group, "%s", r.abortMessage())
				r.abortedOnError.Store(true)
				close(r.abort)
			})
		}
	case dag.CleanupStarted:
		if step.Cleanup != "" && (!step.CleanupOnFailure || br.hasFailed()) {
			u.Sayf(ev.Group, "cleanup: %s", step.Cleanup)
		}
	case dag.CleanupFinished:
		if ev.Err != nil {
			u.Sayf(ev.Group, "cleanup failed: %s: %v", cleanupLabel(step), ev.Err)
		}
	}
}

func (b *buildRun) markFailed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failed = true
}

func (b *buildRun) hasFailed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}

func cleanupLabel(s *plan.Step) string {
	if s.Cleanup == "" {
		return s.Label
	}
	return s.Cleanup
}

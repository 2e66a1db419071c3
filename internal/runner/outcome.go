package runner

import (
	"context"
	"sort"
	"time"

	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// ErrInterrupted is the error of a build that an interrupt (Ctrl-C or
// SIGTERM) stopped before it finished. errors.Is matches it with
// context.Canceled too.
var ErrInterrupted error = &stoppedError{"interrupted"}

// ErrStoppedByFailFast is the error of a build that --fail-fast stopped
// because another build failed. errors.Is matches it with context.Canceled
// too.
var ErrStoppedByFailFast error = &stoppedError{"stopped because another build failed (--fail-fast)"}

// ErrStoppedByOnError is the error of a build that -on-error stopped
// (abort, run-cleanup-provisioner, or the answer "a" to ask) because a
// step of another build failed.
var ErrStoppedByOnError error = &stoppedError{"stopped because another build failed (-on-error)"}

// stoppedError is the error of a build that was cancelled rather than
// failed: it says why, in the words a user reads in the summary.
type stoppedError struct{ msg string }

func (e *stoppedError) Error() string { return e.msg }

// Is reports whether target is context.Canceled, so code that checks for a
// cancellation still recognises a stopped build.
func (e *stoppedError) Is(target error) bool { return target == context.Canceled }

// summarize turns the node outcomes of one build into its result, all but
// the artifact. The build's error is that of its first failed step in plan
// order; a build with no failed step that did not finish was stopped, by an
// interrupt or by --fail-fast. Its duration runs from its first step's
// start to the end of its last step or cleanup, so a build that failed
// early is not timed by the slowest build of the run.
func summarize(bp *plan.BuildPlan, outcomes map[string]dag.Outcome, res *dag.Result) *BuildResult {
	out := &BuildResult{Name: bp.Name, OK: true}
	var first, last time.Time
	for _, s := range bp.Steps {
		o := outcomes[s.ID]
		first, last = widen(first, last, o.Started, o.Finished, o.CleanupStart, o.CleanupEnd)
		if o.Status == dag.Succeeded {
			continue
		}
		out.OK = false
		if o.Status == dag.Failed && out.Err == nil {
			out.Err = o.Err
		}
	}
	out.Duration = last.Sub(first)
	if !out.OK && out.Err == nil {
		out.Err = ErrStoppedByFailFast
		if res.Interrupted != nil {
			out.Err = ErrInterrupted
		}
	}
	leftover := map[string]bool{}
	for _, id := range res.Leftover {
		leftover[id] = true
	}
	for _, s := range bp.Steps {
		if leftover[s.ID] && s.Cleanup != "" {
			out.Leftover = append(out.Leftover, s.Cleanup)
		}
	}
	sort.Strings(out.Leftover)
	return out
}

// widen returns the span [first, last] widened to include every non-zero
// time in ts. A zero first or last is an empty span.
func widen(first, last time.Time, ts ...time.Time) (time.Time, time.Time) {
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

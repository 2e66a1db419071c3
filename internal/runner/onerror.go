package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/imgbuild/imgbuild/internal/dag"
)

// The values of Options.OnError, Packer's -on-error.
const (
	// OnErrorCleanup (the default) removes what a failed build created.
	OnErrorCleanup = "cleanup"
	// OnErrorAbort stops the run at the first failed step and leaves
	// what it created in place, journaled for `imgbuild cleanup --run`.
	OnErrorAbort = "abort"
	// OnErrorAsk asks, at each failed step, whether to clean up, abort
	// or retry the step.
	OnErrorAsk = "ask"
	// OnErrorRunCleanupProvisioner runs the build's
	// error-cleanup-provisioner after a failed provisioner, then aborts
	// as OnErrorAbort does.
	OnErrorRunCleanupProvisioner = "run-cleanup-provisioner"
)

// askQuestion is Packer's prompt after a failed step with -on-error=ask.
const askQuestion = "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?"

// runsErrorCleanup reports whether a failed provisioner runs the build's
// error-cleanup-provisioner itself: as in Packer, not when the run aborts
// without cleanup, and with -on-error=ask only when the user chooses to
// clean up (askNode).
func (r *run) runsErrorCleanup() bool {
	return r.opts.OnError != OnErrorAbort && r.opts.OnError != OnErrorAsk
}

// errorCleaner is a node that runs the error-cleanup-provisioner after
// it failed: a provisioner step.
type errorCleaner interface{ errorCleanup(ctx context.Context) }

// abortsOn reports whether the failure of node id stops the run, leaving
// what it created in place.
func (r *run) abortsOn(id string) bool {
	switch r.opts.OnError {
	case OnErrorAbort, OnErrorRunCleanupProvisioner:
		return true
	case OnErrorAsk:
		return r.asker.aborted(id)
	}
	return false
}

// asker asks the user what to do about failed steps (-on-error=ask), one
// question at a time.
type asker struct {
	r  *run
	mu sync.Mutex // one question at a time
	// abortedIDs are the failed nodes the user chose to abort at.
	abortedIDs map[string]bool
}

func (a *asker) aborted(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.abortedIDs[id]
}

// wrap returns n as a node of an -on-error=ask run. When its Run fails,
// the user chooses: clean up (the failure stands and the build cleans up
// as usual), abort (the failure stops the run, leaving everything in
// place) or retry (run the step again, as Packer does: what the failed
// attempt created is journaled, and removed by the build's cleanup or
// `imgbuild cleanup --run`).
func (a *asker) wrap(id, group string, n dag.Node) dag.Node {
	return replaceRun(n, func(ctx context.Context, inner dag.Node) error {
		for {
			err := inner.Run(ctx)
			if err == nil || ctx.Err() != nil {
				return err
			}
			switch a.ask(ctx, group, id, err) {
			case 'r':
				a.r.opts.UI.Sayf(group, "retrying step %q", a.r.stepLabel(id))
				continue
			case 'a':
				a.mu.Lock()
				a.abortedIDs[id] = true
				a.mu.Unlock()
			default:
				if ec, ok := inner.(errorCleaner); ok {
					ec.errorCleanup(ctx)
				}
			}
			return err
		}
	})
}

// ask shows the failure and Packer's question until the answer is c, a
// or r (an empty line is c); at the end of the input or when ctx is done
// the answer is c, as in Packer.
func (a *asker) ask(ctx context.Context, group, id string, stepErr error) byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.r.opts.UI
	u.Sayf(group, "step %q failed: %v", a.r.stepLabel(id), stepErr)
	for {
		u.Sayf(group, "%s", askQuestion)
		if a.r.opts.Input == nil {
			return 'c'
		}
		line, err := a.r.opts.Input(ctx)
		if err != nil {
			return 'c'
		}
		switch c := (strings.ToLower(strings.TrimSpace(line)) + "c")[0]; c {
		case 'c', 'a', 'r':
			return c
		}
		u.Sayf(group, "Incorrect input: %q", line)
	}
}

// stepLabel names node id for the user: its step's label.
func (r *run) stepLabel(id string) string {
	if s := r.opts.Plan.Step(id); s != nil && s.Label != "" {
		return s.Label
	}
	return id
}

// abortMessage is what the run says when a failure stops it.
func (r *run) abortMessage() string {
	return fmt.Sprintf("-on-error=%s: stopping the run and leaving what it created in place", r.opts.OnError)
}

package runner

import (
	"context"
	"sync"

	"github.com/imgbuild/imgbuild/internal/dag"
)

// debugger carries out Packer's -debug: steps and cleanups run one at a
// time (the walk is serial and gate is held by each step's Run and each
// Cleanup), and the run pauses after each step that succeeded and before
// each cleanup until the user presses Enter, so they can look at the
// instance (with the key the builder saved) between steps.
type debugger struct {
	r    *run
	gate sync.Mutex
	// walkCtx is the walk's context: once it is done (an interrupt), the
	// cleanups no longer pause.
	walkCtx context.Context
}

// wrap returns n as a node of a -debug run: it runs alone, then pauses
// if it succeeded (Packer pauses after each step's run; a failed step
// stops the build instead). The pause before its Cleanup is the walk's
// BeforeCleanup (debugger.beforeCleanup), which holds the gate while the
// cleanup runs.
func (d *debugger) wrap(id, group string, n dag.Node) dag.Node {
	return replaceRun(n, func(ctx context.Context, inner dag.Node) error {
		d.gate.Lock()
		defer d.gate.Unlock()
		if err := inner.Run(ctx); err != nil {
			return err
		}
		d.pause(ctx, group, "after run of", id)
		return nil
	})
}

// beforeCleanup takes the gate for one cleanup and pauses first, unless
// the run was interrupted. It returns the gate's release.
func (d *debugger) beforeCleanup(ctx context.Context, id, group string) func() {
	d.gate.Lock()
	if d.walkCtx == nil || d.walkCtx.Err() == nil {
		d.pause(ctx, group, "before cleanup of", id)
	}
	return d.gate.Unlock
}

// pause says where the run stands and waits for a line of input (Enter),
// or for ctx to be done. Without input (end of file) it goes on, as
// Packer's does.
func (d *debugger) pause(ctx context.Context, group, where, id string) {
	d.r.opts.UI.Sayf(group, "Pausing %s step '%s'. Press enter to continue.", where, d.r.stepLabel(id))
	if d.r.opts.Input == nil {
		return
	}
	if _, err := d.r.opts.Input(ctx); err != nil {
		d.r.opts.Logger.Debug("debug pause: no input", "step", id, "error", err)
	}
}

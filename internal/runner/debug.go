package runner

import (
	"context"
	"fmt"
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

// debugNode is a node of a -debug run.
type debugNode struct {
	dag.Node
	d   *debugger
	id  string
	grp string
}

// debugCleaner is a debugNode whose node is a dag.Cleaner; the pause
// before its Cleanup is the walk's BeforeCleanup (debugger.beforeCleanup),
// which holds the gate while the cleanup runs.
type debugCleaner struct {
	*debugNode
	c dag.Cleaner
}

func (n debugCleaner) Cleanup(ctx context.Context) error { return n.c.Cleanup(ctx) }

// wrap returns n as a node of a -debug run.
func (d *debugger) wrap(id, group string, n dag.Node) dag.Node {
	dn := &debugNode{Node: n, d: d, id: id, grp: group}
	if c, ok := n.(dag.Cleaner); ok {
		return debugCleaner{debugNode: dn, c: c}
	}
	return dn
}

// Run runs the node alone, then pauses if it succeeded (Packer pauses
// after each step's run; a failed step stops the build instead).
func (n *debugNode) Run(ctx context.Context) error {
	n.d.gate.Lock()
	defer n.d.gate.Unlock()
	if err := n.Node.Run(ctx); err != nil {
		return err
	}
	n.d.pause(ctx, n.grp, "after run of", n.id)
	return nil
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
	label := id
	if s := d.r.opts.Plan.Step(id); s != nil && s.Label != "" {
		label = s.Label
	}
	d.r.opts.UI.Sayf(group, "%s", fmt.Sprintf("Pausing %s step '%s'. Press enter to continue.", where, label))
	if d.r.opts.Input == nil {
		return
	}
	if _, err := d.r.opts.Input(ctx); err != nil {
		d.r.opts.Logger.Debug("debug pause: no input", "step", id, "error", err)
	}
}

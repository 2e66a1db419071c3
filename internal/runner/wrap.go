package runner

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/dag"
)

// runReplaced is a node whose Run is replaced (by -debug's pauses or by
// -on-error=ask's question) while its other methods stay.
type runReplaced struct {
	dag.Node
	run func(ctx context.Context) error
}

func (n *runReplaced) Run(ctx context.Context) error { return n.run(ctx) }

// cleanerRunReplaced is a runReplaced whose node is a dag.Cleaner: the
// walk must still see it as one.
type cleanerRunReplaced struct {
	*runReplaced
	c dag.Cleaner
}

func (n cleanerRunReplaced) Cleanup(ctx context.Context) error { return n.c.Cleanup(ctx) }

// replaceRun returns n with run in place of its Run; run is given n's own
// Run to call. The result is a dag.Cleaner when n is one.
func replaceRun(n dag.Node, run func(ctx context.Context, inner dag.Node) error) dag.Node {
	rn := &runReplaced{Node: n, run: func(ctx context.Context) error { return run(ctx, n) }}
	if c, ok := n.(dag.Cleaner); ok {
		return cleanerRunReplaced{runReplaced: rn, c: c}
	}
	return rn
}

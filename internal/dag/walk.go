package dag

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"
)

// DefaultParallelism is the number of nodes run at once when
// Options.Parallelism is not positive.
const DefaultParallelism = 10

// DefaultCleanupTimeout is the time each node's cleanup gets when
// Options.CleanupTimeout is not positive.
const DefaultCleanupTimeout = 10 * time.Minute

// DefaultCleanupParallelism is the number of groups cleaned up at once when
// Options.CleanupParallelism is not positive. Each group cleans up one node
// at a time, so this also bounds how many cleanups run at once.
const DefaultCleanupParallelism = 8

// Options control a walk. The zero value is usable.
type Options struct {
	// Parallelism caps how many nodes run at once, across all groups. A
	// node inside Waiting does not count. Zero or negative means
	// DefaultParallelism.
	Parallelism int
	// CleanupParallelism caps how many groups clean up at once; a group
	// whose turn has not come yet waits for one of them to finish.
	// Cleanups do not count against Parallelism. Zero or negative means
	// DefaultCleanupParallelism.
	CleanupParallelism int
	// CleanupTimeout bounds each node's Cleanup separately (it is per
	// node, not for the whole cleanup of a group), so one hung cleanup
	// cannot use up the time of the others. Zero or negative means
	// DefaultCleanupTimeout.
	CleanupTimeout time.Duration
	// FailFast makes the first failed node cancel the whole walk, in every
	// group. Without it a failure only skips the failed node's dependents.
	FailFast bool
	// Abandon, when it is closed or receives a value, cancels the walk and
	// the cleanups: the cleanups running then see their context cancelled,
	// the remaining ones are not run, and Result.Leftover says what may be
	// left. The CLI closes it on the second interrupt. Nil means never.
	Abandon <-chan struct{}
	// Logger receives debug logs of the walk. Nil means no logging.
	Logger hclog.Logger
	// Serial runs one node at a time, in Graph.Order, and one group's
	// cleanup at a time: it sets Parallelism and CleanupParallelism to 1,
	// and a node inside Waiting keeps its slot. The CLI's -debug sets it.
	Serial bool
	// BeforeCleanup, if set, is called on the cleanup goroutine before each
	// node's Cleanup, with the cleanup's context before its timeout
	// applies (so a pause there does not use up CleanupTimeout); the
	// function it returns, if not nil, is called once that Cleanup
	// returned. The CLI's -debug pauses here.
	BeforeCleanup func(ctx context.Context, id, group string) (after func())
	// OnEvent, if set, is told of every node and cleanup start and finish.
	// It is called from the walk's goroutines, possibly concurrently, so
	// it must be safe for concurrent use, and it should return quickly.
	OnEvent func(Event)
}

func (o Options) withDefaults() Options {
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.CleanupParallelism <= 0 {
		o.CleanupParallelism = DefaultCleanupParallelism
	}
	if o.CleanupTimeout <= 0 {
		o.CleanupTimeout = DefaultCleanupTimeout
	}
	if o.Serial {
		o.Parallelism, o.CleanupParallelism = 1, 1
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Walk validates g, runs its nodes and cleans up after each group as soon
// as it is settled, and returns the outcome of every node; see the package
// documentation for the rules. If g is invalid nothing runs and
// Result.GraphErr says why. Walk returns only after every goroutine it
// started has returned.
func (g *Graph) Walk(ctx context.Context, opts Options) *Result {
	w := newWalker(g, opts)
	if err := g.Validate(); err != nil {
		w.res.GraphErr = err
		return w.res
	}
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	// Cleanups keep the caller's values but not its cancellation, and never
	// see a node's slot: Waiting in a Cleanup just calls its function.
	cleanBase := context.WithValue(context.WithoutCancel(ctx), slotKey{}, (*nodeSlot)(nil))
	cleanCtx, stopClean := context.WithCancelCause(cleanBase)
	defer stopClean(nil)
	unwatch := watch(w.opts.Abandon, func() {
		// Cleanup first: a node that returns because the run was cancelled
		// must not see its cleanup start on a still-live context.
		stopClean(ErrAbandoned)
		stopRun(ErrAbandoned)
	})
	defer unwatch()

	w.loop(runCtx, cleanCtx, stopRun)
	w.finishResult(runCtx)
	return w.res
}

// loop is the walker's one goroutine: it starts nodes and group cleanups
// and records what they report, until nothing runs and every group is
// cleaned up. It waits for every goroutine it started.
func (w *walker) loop(runCtx, cleanCtx context.Context, stop context.CancelCauseFunc) {
	var nodes, cleanups errgroup.Group // their goroutines return nil: outcomes carry the errors
	defer func() {
		_ = nodes.Wait()
		_ = cleanups.Wait()
	}()
	runDone := runCtx.Done()
	for {
		if runDone != nil && runCtx.Err() != nil {
			runDone = nil
			w.cancelPending()
		}
		w.grantSlots(runCtx)
		for len(w.ready) > 0 && w.busy < w.opts.Parallelism && runCtx.Err() == nil {
			pos := w.ready[0]
			w.ready = w.ready[1:]
			w.start(runCtx, &nodes, pos)
		}
		for len(w.cleanQ) > 0 && w.cleaning < w.opts.CleanupParallelism {
			unit := w.cleanQ[0]
			w.cleanQ = w.cleanQ[1:]
			w.startCleanup(cleanCtx, &cleanups, unit)
		}
		if w.running == 0 && w.cleaning == 0 && len(w.cleanQ) == 0 {
			return
		}
		select {
		case f := <-w.done:
			w.finish(f, stop)
		case c := <-w.cleaned:
			w.recordCleanup(c)
		case m := <-w.slots:
			w.slotMessage(m)
		case <-runDone:
		}
	}
}

// finishResult records, once everything has returned, why the walk was
// interrupted and what may be left behind.
func (w *walker) finishResult(runCtx context.Context) {
	if runCtx.Err() != nil && !w.failedFast {
		for _, o := range w.res.Outcomes {
			if o.Status == Cancelled {
				w.res.Interrupted = context.Cause(runCtx)
				break
			}
		}
	}
	for i := len(w.started) - 1; i >= 0; i-- {
		o := &w.res.Outcomes[w.started[i]]
		if _, ok := w.g.vertices[o.ID].node.(Cleaner); ok && !o.Cleaned {
			w.res.Leftover = append(w.res.Leftover, o.ID)
		}
	}
}

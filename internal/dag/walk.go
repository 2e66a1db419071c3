package dag

import (
	"context"
	"errors"
	"fmt"
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

// Options control a walk. The zero value is usable.
type Options struct {
	// Parallelism caps how many nodes run at once, across all groups.
	// Zero or negative means DefaultParallelism.
	Parallelism int
	// CleanupTimeout bounds each node's Cleanup separately (it is per
	// node, not for the whole cleanup phase), so one hung cleanup cannot
	// use up the time of the others. Zero or negative means
	// DefaultCleanupTimeout.
	CleanupTimeout time.Duration
	// FailFast makes the first failed node cancel the whole walk, in every
	// group. Without it a failure only skips the failed node's dependents.
	FailFast bool
	// Abandon, when it is closed or receives a value, cancels the walk and
	// the cleanups: the cleanup running then sees its context cancelled,
	// the remaining ones are not run, and Result.Leftover says what may be
	// left. The CLI closes it on the second interrupt. Nil means never.
	Abandon <-chan struct{}
	// Logger receives debug logs of the walk. Nil means no logging.
	Logger hclog.Logger
	// OnEvent, if set, is told of every node and cleanup start and finish.
	// It is called from the walk's goroutines, possibly concurrently, so
	// it must be safe for concurrent use, and it should return quickly.
	OnEvent func(Event)
}

func (o Options) withDefaults() Options {
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.CleanupTimeout <= 0 {
		o.CleanupTimeout = DefaultCleanupTimeout
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Walk validates g, runs its nodes and then their cleanups, and returns the
// outcome of every node; see the package documentation for the rules. If g
// is invalid nothing runs and Result.GraphErr says why. Walk returns only
// after every goroutine it started has returned.
func (g *Graph) Walk(ctx context.Context, opts Options) *Result {
	w := newWalker(g, opts)
	if err := g.Validate(); err != nil {
		w.res.GraphErr = err
		return w.res
	}
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	cleanCtx, stopClean := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopClean(nil)
	unwatch := watch(w.opts.Abandon, func() {
		// Cleanup first: a node that returns because the run was cancelled
		// must not see its cleanup start on a still-live context.
		stopClean(ErrAbandoned)
		stopRun(ErrAbandoned)
	})
	defer unwatch()

	w.run(runCtx, stopRun)
	w.cleanup(cleanCtx)
	return w.res
}

// walker is the state of one walk. Only the goroutine that called Walk
// touches it, except for what node goroutines read: g, opts, log and done.
type walker struct {
	g          *Graph
	opts       Options
	log        hclog.Logger
	res        *Result // Outcomes are indexed by position in Order
	waiting    []int   // per position: dependencies that have not succeeded
	dependents [][]int // per position: positions that depend on it
	ready      []int   // positions whose dependencies all succeeded, ascending
	started    []int   // positions in start order
	running    int
	done       chan finished
	failedFast bool // FailFast cancelled the walk
}

// finished is what a node goroutine reports back to the walker.
type finished struct {
	pos    int
	status Status
	err    error
	at     time.Time
}

func newWalker(g *Graph, opts Options) *walker {
	opts = opts.withDefaults()
	ids := g.Order()
	w := &walker{
		g:    g,
		opts: opts,
		log:  opts.Logger.Named("dag"),
		res:  &Result{Outcomes: make([]Outcome, len(ids))},
		done: make(chan finished, len(ids)), // never blocks a node goroutine
	}
	for i, id := range ids {
		w.res.Outcomes[i] = Outcome{ID: id, Group: g.vertices[id].group}
	}
	w.waiting, w.dependents = g.edges(ids)
	for i := range ids {
		if w.waiting[i] == 0 {
			w.ready = append(w.ready, i)
		}
	}
	return w
}

// run starts ready nodes while ctx is live and a slot is free, and records
// each result, until no node is running.
func (w *walker) run(ctx context.Context, stop context.CancelCauseFunc) {
	var eg errgroup.Group
	eg.SetLimit(w.opts.Parallelism)
	for {
		for len(w.ready) > 0 && w.running < w.opts.Parallelism && ctx.Err() == nil {
			pos := w.ready[0]
			w.ready = w.ready[1:]
			w.start(ctx, &eg, pos)
		}
		if w.running == 0 {
			break
		}
		w.finish(<-w.done, stop)
	}
	_ = eg.Wait() // node goroutines return nil: outcomes carry the errors
	w.cancelPending(ctx)
}

// start runs the node at pos in a goroutine owned by eg.
func (w *walker) start(ctx context.Context, eg *errgroup.Group, pos int) {
	o := &w.res.Outcomes[pos]
	o.Started = time.Now()
	w.started = append(w.started, pos)
	w.running++
	id, group, at := o.ID, o.Group, o.Started
	node := w.g.vertices[id].node
	eg.Go(func() error {
		w.emit(Event{Kind: NodeStarted, ID: id, Group: group, Time: at})
		w.log.Debug("node started", "id", id, "group", group)
		err := runNode(ctx, node)
		f := finished{pos: pos, status: classify(ctx, err), err: err, at: time.Now()}
		w.logFinished(id, f)
		w.emit(Event{Kind: NodeFinished, ID: id, Group: group, Status: f.status, Err: err, Time: f.at})
		w.done <- f
		return nil
	})
}

// classify turns what Run returned into a Status. An error returned after
// the walk was cancelled is a consequence of the cancellation, unless it
// is a panic, which is always a bug worth reporting.
func classify(ctx context.Context, err error) Status {
	var p *PanicError
	switch {
	case err == nil:
		return Succeeded
	case errors.As(err, &p):
		return Failed
	case ctx.Err() != nil:
		return Cancelled
	default:
		return Failed
	}
}

// finish records a finished node and releases or skips its dependents.
func (w *walker) finish(f finished, stop context.CancelCauseFunc) {
	w.running--
	o := &w.res.Outcomes[f.pos]
	o.Status, o.Err, o.Finished = f.status, f.err, f.at
	switch f.status {
	case Succeeded:
		for _, d := range w.dependents[f.pos] {
			w.waiting[d]--
			if w.waiting[d] == 0 && w.res.Outcomes[d].Status == NotRun {
				w.ready = insertSorted(w.ready, d)
			}
		}
	case Failed:
		w.skipDependents(f.pos, o.ID)
		if w.opts.FailFast && !w.failedFast {
			w.failedFast = true
			stop(fmt.Errorf("fail-fast: %s failed: %w", o.ID, o.Err))
		}
	}
}

// skipDependents marks every not yet skipped transitive dependent of pos
// as Skipped because of the failed node id.
func (w *walker) skipDependents(pos int, id string) {
	for _, d := range w.dependents[pos] {
		if o := &w.res.Outcomes[d]; o.Status == NotRun {
			o.Status, o.SkippedBecause = Skipped, id
			w.skipDependents(d, id)
		}
	}
}

// cancelPending marks the nodes that never started because ctx was
// cancelled, and records why when the cancellation came from outside.
func (w *walker) cancelPending(ctx context.Context) {
	if ctx.Err() == nil {
		return
	}
	cancelled := false
	for i := range w.res.Outcomes {
		o := &w.res.Outcomes[i]
		if o.Status == NotRun {
			o.Status = Cancelled
		}
		cancelled = cancelled || o.Status == Cancelled
	}
	if cancelled && !w.failedFast {
		w.res.Interrupted = context.Cause(ctx)
	}
}

func (w *walker) logFinished(id string, f finished) {
	var p *PanicError
	switch {
	case errors.As(f.err, &p):
		w.log.Error("node panicked", "id", id, "panic", p.Value, "stack", string(p.Stack))
	case f.err != nil:
		w.log.Debug("node finished", "id", id, "status", f.status, "error", f.err)
	default:
		w.log.Debug("node finished", "id", id, "status", f.status)
	}
}

func (w *walker) emit(e Event) {
	if w.opts.OnEvent != nil {
		w.opts.OnEvent(e)
	}
}

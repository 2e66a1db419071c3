package dag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"
)

// walker is the state of one walk. Only the goroutine running loop touches
// it, except for what node and cleanup goroutines read: g, opts, log and
// the channels.
type walker struct {
	g          *Graph
	opts       Options
	log        hclog.Logger
	res        *Result // Outcomes are indexed by position in Order
	waiting    []int   // per position: dependencies that have not succeeded
	dependents [][]int // per position: positions that depend on it
	unit       []int   // per position: its cleanup unit (see units)
	open       []int   // per unit: nodes that may still run or are running
	ready      []int   // positions whose dependencies all succeeded, ascending
	started    []int   // positions in start order
	running    int     // node goroutines that have not reported back
	busy       int     // parallelism slots held (see Waiting)
	holding    []bool  // per position: the node holds a slot
	acquireQ   []slotMessage
	cleanQ     []int // settled units waiting for a cleanup slot, in order
	cleaning   int   // units cleaning up
	failedFast bool  // FailFast cancelled the walk

	done    chan finished
	cleaned chan unitCleaned
	slots   chan slotMessage
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
		g:       g,
		opts:    opts,
		log:     opts.Logger.Named("dag"),
		res:     &Result{Outcomes: make([]Outcome, len(ids))},
		holding: make([]bool, len(ids)),
		done:    make(chan finished, len(ids)), // never blocks a node goroutine
		cleaned: make(chan unitCleaned),
		slots:   make(chan slotMessage),
	}
	for i, id := range ids {
		w.res.Outcomes[i] = Outcome{ID: id, Group: g.vertices[id].group}
	}
	w.waiting, w.dependents = g.edges(ids)
	var units int
	w.unit, units = cleanupUnits(w.res.Outcomes, w.dependents)
	w.open = make([]int, units)
	for i := range ids {
		w.open[w.unit[i]]++
		if w.waiting[i] == 0 {
			w.ready = append(w.ready, i)
		}
	}
	return w
}

// start runs the node at pos in a goroutine owned by eg, holding a slot.
func (w *walker) start(ctx context.Context, eg *errgroup.Group, pos int) {
	o := &w.res.Outcomes[pos]
	o.Started = time.Now()
	w.started = append(w.started, pos)
	w.running++
	w.busy++
	w.holding[pos] = true
	id, group, at := o.ID, o.Group, o.Started
	node := w.g.vertices[id].node
	slot := &nodeSlot{w: w, pos: pos}
	eg.Go(func() error {
		w.emit(Event{Kind: NodeStarted, ID: id, Group: group, Time: at})
		w.log.Debug("node started", "id", id, "group", group)
		err := runNode(context.WithValue(ctx, slotKey{}, slot), node)
		slot.finish()
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
	if w.holding[f.pos] {
		w.holding[f.pos] = false
		w.busy--
	}
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
	w.settle(f.pos)
}

// skipDependents marks every not yet skipped transitive dependent of pos
// as Skipped because of the failed node id.
func (w *walker) skipDependents(pos int, id string) {
	for _, d := range w.dependents[pos] {
		if o := &w.res.Outcomes[d]; o.Status == NotRun {
			o.Status, o.SkippedBecause = Skipped, id
			w.skipDependents(d, id)
			w.settle(d)
		}
	}
}

// cancelPending marks the nodes that will never start because the walk
// was cancelled. A node already running settles when its Run returns, not
// here: its group's cleanup must wait for it.
func (w *walker) cancelPending() {
	w.ready = nil
	for i := range w.res.Outcomes {
		if o := &w.res.Outcomes[i]; o.Status == NotRun && o.Started.IsZero() {
			o.Status = Cancelled
			w.settle(i)
		}
	}
}

// settle records that the node at pos will not run (any more). When the
// last node of its unit settles, the unit is queued for cleanup.
func (w *walker) settle(pos int) {
	u := w.unit[pos]
	if w.open[u]--; w.open[u] == 0 {
		w.cleanQ = append(w.cleanQ, u)
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

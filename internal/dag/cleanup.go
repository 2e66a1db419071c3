package dag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// cleanupUnits assigns each position its cleanup unit: its group, or, when
// a dependency joins groups, every group so joined, since a node's cleanup
// must not undo what a node of another group still uses. It returns the
// unit of each position and the number of units.
func cleanupUnits(outcomes []Outcome, dependents [][]int) (unit []int, n int) {
	parent := map[string]string{}
	var root func(g string) string
	root = func(g string) string {
		if p, ok := parent[g]; ok && p != g {
			r := root(p)
			parent[g] = r
			return r
		}
		parent[g] = g
		return g
	}
	for i, ds := range dependents {
		for _, d := range ds {
			if a, b := root(outcomes[i].Group), root(outcomes[d].Group); a != b {
				parent[b] = a
			}
		}
	}
	index := map[string]int{}
	unit = make([]int, len(outcomes))
	for i, o := range outcomes {
		r := root(o.Group)
		if _, ok := index[r]; !ok {
			index[r] = len(index)
		}
		unit[i] = index[r]
	}
	return unit, len(index)
}

// cleanItem is one cleanup a unit's goroutine runs.
type cleanItem struct {
	pos       int
	id, group string
	cleaner   Cleaner
}

// cleanRecord is how one cleanup ended.
type cleanRecord struct {
	pos        int
	err        error
	start, end time.Time // zero when the cleanup was not run
	abandoned  bool
}

// unitCleaned is what a unit's cleanup goroutine reports back.
type unitCleaned struct {
	records []cleanRecord
}

// startCleanup runs, in a goroutine owned by eg, the cleanup of every
// started Cleaner of unit, one at a time, in reverse start order, on ctx,
// which survives the cancellation of the run and is cancelled only when
// Options.Abandon fires. Once it is, the remaining cleanups are not run.
func (w *walker) startCleanup(ctx context.Context, eg *errgroup.Group, unit int) {
	var items []cleanItem
	for i := len(w.started) - 1; i >= 0; i-- {
		pos := w.started[i]
		if w.unit[pos] != unit {
			continue
		}
		o := &w.res.Outcomes[pos]
		if c, ok := w.g.vertices[o.ID].node.(Cleaner); ok {
			items = append(items, cleanItem{pos: pos, id: o.ID, group: o.Group, cleaner: c})
		}
	}
	if len(items) == 0 {
		return
	}
	w.cleaning++
	eg.Go(func() error {
		out := unitCleaned{records: make([]cleanRecord, 0, len(items))}
		for _, it := range items {
			if ctx.Err() != nil {
				err := context.Cause(ctx) // only Abandon cancels ctx
				w.log.Warn("cleanup not run", "id", it.id, "error", err)
				out.records = append(out.records, cleanRecord{pos: it.pos, err: err, abandoned: true})
				continue
			}
			out.records = append(out.records, w.cleanOne(ctx, it))
		}
		w.cleaned <- out
		return nil
	})
}

// cleanOne runs one node's cleanup with its own timeout and says how it
// ended.
func (w *walker) cleanOne(ctx context.Context, it cleanItem) cleanRecord {
	if w.opts.BeforeCleanup != nil {
		if after := w.opts.BeforeCleanup(ctx, it.id, it.group); after != nil {
			defer after()
		}
	}
	d := w.opts.CleanupTimeout
	ctx, cancel := context.WithTimeoutCause(ctx, d, fmt.Errorf("%w after %s", ErrCleanupTimeout, d))
	defer cancel()

	rec := cleanRecord{pos: it.pos, start: time.Now()}
	w.emit(Event{Kind: CleanupStarted, ID: it.id, Group: it.group, Time: rec.start})
	w.log.Debug("cleanup started", "id", it.id, "group", it.group)
	err := runCleanup(ctx, it.cleaner)
	if err != nil && ctx.Err() != nil {
		cause := context.Cause(ctx) // timeout or Abandon
		rec.abandoned = errors.Is(cause, ErrAbandoned)
		if !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
	}
	rec.err, rec.end = err, time.Now()
	if err != nil {
		w.log.Warn("cleanup failed", "id", it.id, "error", err)
	} else {
		w.log.Debug("cleanup finished", "id", it.id)
	}
	w.emit(Event{Kind: CleanupFinished, ID: it.id, Group: it.group, Err: err, Time: rec.end})
	return rec
}

// recordCleanup stores what a unit's cleanup goroutine reported.
func (w *walker) recordCleanup(c unitCleaned) {
	w.cleaning--
	for _, r := range c.records {
		o := &w.res.Outcomes[r.pos]
		o.Cleaned, o.CleanupErr = r.err == nil, r.err
		o.CleanupStart, o.CleanupEnd = r.start, r.end
		w.res.CleanupAbandoned = w.res.CleanupAbandoned || r.abandoned
	}
}

// watch calls fire once if ch is closed or receives a value before the
// returned unwatch is called. unwatch waits for the watching goroutine to
// return, so it never outlives the walk.
func watch(ch <-chan struct{}, fire func()) (unwatch func()) {
	if ch == nil {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ch:
			fire()
		case <-stop:
		}
	}()
	return func() {
		close(stop)
		<-done
	}
}

package dag

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// cleanup runs the cleanup of every started Cleaner, one at a time, in
// reverse start order, on ctx, which survives the cancellation of the run
// and is cancelled only when Options.Abandon fires. Once it is, the
// remaining cleanups are not run. Every node whose cleanup did not succeed
// is recorded in Result.Leftover.
func (w *walker) cleanup(ctx context.Context) {
	for i := len(w.started) - 1; i >= 0; i-- {
		o := &w.res.Outcomes[w.started[i]]
		c, ok := w.g.vertices[o.ID].node.(Cleaner)
		if !ok {
			continue
		}
		if ctx.Err() != nil {
			o.CleanupErr = context.Cause(ctx) // only Abandon cancels ctx
			w.res.CleanupAbandoned = true
			w.log.Warn("cleanup not run", "id", o.ID, "error", o.CleanupErr)
		} else {
			w.cleanOne(ctx, o, c)
		}
		if !o.Cleaned {
			w.res.Leftover = append(w.res.Leftover, o.ID)
		}
	}
}

// cleanOne runs one node's cleanup with its own timeout and records how it
// ended in o.
func (w *walker) cleanOne(ctx context.Context, o *Outcome, c Cleaner) {
	d := w.opts.CleanupTimeout
	ctx, cancel := context.WithTimeoutCause(ctx, d, fmt.Errorf("%w after %s", ErrCleanupTimeout, d))
	defer cancel()

	w.emit(Event{Kind: CleanupStarted, ID: o.ID, Group: o.Group, Time: time.Now()})
	w.log.Debug("cleanup started", "id", o.ID)
	err := runCleanup(ctx, c)
	if err != nil && ctx.Err() != nil {
		cause := context.Cause(ctx) // timeout or Abandon
		if errors.Is(cause, ErrAbandoned) {
			w.res.CleanupAbandoned = true
		}
		if !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
	}
	o.Cleaned, o.CleanupErr = err == nil, err
	if err != nil {
		w.log.Warn("cleanup failed", "id", o.ID, "error", err)
	} else {
		w.log.Debug("cleanup finished", "id", o.ID)
	}
	w.emit(Event{Kind: CleanupFinished, ID: o.ID, Group: o.Group, Err: err, Time: time.Now()})
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

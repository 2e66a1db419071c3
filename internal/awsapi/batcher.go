package awsapi

import (
	"context"
	"time"
)

// batcher is the loop of one WaitBatches key. Its watches, tickCancel and
// the watches' due times are guarded by the WaitBatches mutex.
type batcher struct {
	client EC2Describer
	key    batchKey
	cancel context.CancelFunc // stops the loop (Close)
	done   chan struct{}      // closed when the loop has exited
	wake   chan struct{}      // a watch came or went

	watches    map[*watch]struct{}
	tickCancel context.CancelFunc // cancels the Describe calls in flight
}

func newBatcher(c EC2Describer, key batchKey) *batcher {
	return &batcher{client: c, key: key, done: make(chan struct{}),
		wake: make(chan struct{}, 1), watches: map[*watch]struct{}{}}
}

// signal wakes the loop to look at its watches again.
func (b *batcher) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// run serves b's watches until none is left or ctx ends. Each round it
// sleeps until the earliest due watch, then describes every kind with a
// due watch, serving all the watches of that kind.
func (b *batcher) run(ctx context.Context, bs *WaitBatches) {
	defer close(b.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due, next, ok := bs.plan(b, ctx.Err() != nil)
		if !ok {
			return
		}
		if due.any() {
			b.tick(ctx, bs, due)
			continue
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-b.wake:
		}
	}
}

// kindSet is a set of kinds.
type kindSet [kinds]bool

func (s kindSet) any() bool { return s[kindInstance] || s[kindImage] || s[kindSnapshot] }

// unreadRecheck is how soon a watch whose waiter has not read its last
// observation is looked at again.
const unreadRecheck = 20 * time.Millisecond

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// plan returns the kinds due now and the next due time. When b has no
// watch left, or stop is set, it removes b from bs, ends the remaining
// watches with ErrWaitsClosed and reports !ok.
func (bs *WaitBatches) plan(b *batcher, stop bool) (due kindSet, next time.Time, ok bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if len(b.watches) == 0 || stop {
		delete(bs.loops, b.key)
		for w := range b.watches {
			w.deliver(observation{err: ErrWaitsClosed})
		}
		b.cancel()
		return due, next, false
	}
	now := time.Now()
	for w := range b.watches {
		when := w.due
		if len(w.out) > 0 {
			// Its waiter has not read the last observation yet (a busy
			// machine): another Describe would tell it nothing new.
			when = later(when, now.Add(unreadRecheck))
		}
		if !when.After(now) {
			due[w.kind] = true
		}
		if next.IsZero() || when.Before(next) {
			next = when
		}
	}
	return due, next, true
}

// tick describes the due kinds (and the snapshots of progress watches),
// delivers what it saw to every watch of those kinds and schedules them.
func (b *batcher) tick(ctx context.Context, bs *WaitBatches, due kindSet) {
	served, tctx := bs.startTick(ctx, b, due)
	defer bs.endTick(b, served)
	seen := b.describe(tctx, served, time.Now())
	if tctx.Err() != nil {
		return // every watch left, or Close: nobody to tell
	}
	now := time.Now()
	for k, ws := range served {
		for _, w := range ws {
			o := seen.observe(kind(k), w)
			if kind(k) == kindImage {
				w.remember(o, !seen.stale[w], now)
			}
			w.deliver(o)
		}
	}
}

// startTick picks the watches a tick serves: every watch of a due kind,
// and every snapshot watch when progress watches make the tick describe
// snapshots anyway.
func (bs *WaitBatches) startTick(ctx context.Context, b *batcher, due kindSet) ([kinds][]*watch, context.Context) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	var served [kinds][]*watch
	for w := range b.watches {
		if w.kind == kindImage && w.progress && due[kindImage] {
			due[kindSnapshot] = true
		}
	}
	for w := range b.watches {
		if due[w.kind] {
			served[w.kind] = append(served[w.kind], w)
		}
	}
	tctx, cancel := context.WithCancel(ctx)
	b.tickCancel = cancel
	return served, tctx
}

// endTick schedules the served watches' next checks.
func (bs *WaitBatches) endTick(b *batcher, served [kinds][]*watch) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b.tickCancel()
	b.tickCancel = nil
	now := time.Now()
	for _, ws := range served {
		for _, w := range ws {
			w.due = now.Add(w.nextDelay(now.Sub(w.start)))
		}
	}
}

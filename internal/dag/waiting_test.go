package dag

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// waitThen returns a Run that waits d inside Waiting, then works for
// work, counting itself in busy while it works.
func waitThen(d, work time.Duration, busy *gauge) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := Waiting(ctx, sleep(d)); err != nil {
			return err
		}
		return busy.during(sleep(work))(ctx)
	}
}

// gauge tracks how many nodes are working at once, and the peak.
type gauge struct{ cur, peak atomic.Int32 }

func (g *gauge) during(fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		n := g.cur.Add(1)
		for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
		}
		defer g.cur.Add(-1)
		return fn(ctx)
	}
}

func TestWaitingHoldsNoSlot(t *testing.T) {
	tests := []struct {
		name    string
		specs   func(busy *gauge) []spec
		wantEnd map[string]time.Duration
	}{
		{
			name: "two waits overlap under parallelism 1",
			specs: func(busy *gauge) []spec {
				return []spec{{id: "a", run: waitThen(time.Hour, 0, busy)}, {id: "b", run: waitThen(time.Hour, 0, busy)}}
			},
			wantEnd: map[string]time.Duration{"a": time.Hour, "b": time.Hour},
		},
		{
			name: "work after the wait takes a slot again",
			specs: func(busy *gauge) []spec {
				return []spec{
					{id: "a", run: waitThen(time.Hour, 10*time.Minute, busy)},
					{id: "b", run: busy.during(sleep(2 * time.Hour))},
				}
			},
			// a's wait ends at 1h, but b works until 2h: a works from 2h.
			wantEnd: map[string]time.Duration{"a": 2*time.Hour + 10*time.Minute, "b": 2 * time.Hour},
		},
		{
			name: "a node back from its wait goes before nodes not yet started",
			specs: func(busy *gauge) []spec {
				return []spec{
					{id: "a", run: waitThen(time.Hour, 10*time.Minute, busy)},
					{id: "b", run: busy.during(sleep(2 * time.Hour))},
					{id: "c", run: busy.during(sleep(time.Minute))},
				}
			},
			wantEnd: map[string]time.Duration{"a": 2*time.Hour + 10*time.Minute, "b": 2 * time.Hour, "c": 2*time.Hour + 11*time.Minute},
		},
		{
			name: "concurrent and nested waits of one node give one slot back",
			specs: func(busy *gauge) []spec {
				twoWaits := func(ctx context.Context) error {
					var wg sync.WaitGroup
					for range 2 {
						wg.Go(func() {
							_ = Waiting(ctx, func(ctx context.Context) error { return Waiting(ctx, sleep(time.Hour)) })
						})
					}
					wg.Wait()
					return busy.during(sleep(time.Minute))(ctx)
				}
				return []spec{
					{id: "a", run: twoWaits},
					{id: "b", run: busy.during(sleep(30 * time.Minute))},
					{id: "c", run: busy.during(sleep(30 * time.Minute))},
				}
			},
			wantEnd: map[string]time.Duration{"a": time.Hour + time.Minute, "b": 30 * time.Minute, "c": time.Hour},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var busy gauge
				rec := newRecorder()
				res := build(t, rec, tt.specs(&busy)).Walk(t.Context(), Options{Parallelism: 1})
				if res.Failed() {
					t.Fatalf("walk failed: %v", res.Err())
				}
				for id, want := range tt.wantEnd {
					if got := mustGet(t, res, id).Finished.Sub(rec.start); got != want {
						t.Errorf("%s finished at %v, want %v", id, got, want)
					}
				}
				if got := busy.peak.Load(); got > 1 {
					t.Errorf("%d nodes worked at once, want at most 1 (parallelism 1)", got)
				}
			})
		})
	}
}

func TestWaitingCancelledWalkGrantsSlotAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// b ignores cancellation and holds the only slot until 3h; a's wait
		// ends at 1h and is cancelled at 2h: it must not wait for b's slot.
		rec := newRecorder()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(2*time.Hour, cancel)
		g := build(t, rec, []spec{
			{id: "a", run: func(ctx context.Context) error {
				_ = Waiting(ctx, sleep(time.Hour))
				return ctx.Err()
			}},
			{id: "b", run: func(context.Context) error { time.Sleep(3 * time.Hour); return nil }},
		})
		res := g.Walk(ctx, Options{Parallelism: 1})
		if got := mustGet(t, res, "a").Finished.Sub(rec.start); got != 2*time.Hour {
			t.Errorf("a finished at %v, want 2h0m0s", got)
		}
	})
}

func TestWaitingOutsideAWalk(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.WithValue(t.Context(), ctxKey{}, "v")
		var seen any
		err := Waiting(ctx, func(ctx context.Context) error { seen = ctx.Value(ctxKey{}); return nil })
		if err != nil || seen != "v" {
			t.Errorf("Waiting outside a walk: err %v, value %v; want nil, v", err, seen)
		}
		// In a Cleanup, and after Run returned, Waiting just calls fn.
		var late sync.WaitGroup
		defer late.Wait()
		g := build(t, newRecorder(), []spec{{
			id: "a",
			run: func(ctx context.Context) error {
				late.Go(func() { time.Sleep(s); _ = Waiting(ctx, sleep(s)) })
				return nil
			},
			clean: func(ctx context.Context) error { return Waiting(ctx, sleep(s)) },
		}})
		if res := g.Walk(t.Context(), Options{Parallelism: 1}); res.Failed() {
			t.Fatalf("walk failed: %v", res.Err())
		}
	})
}

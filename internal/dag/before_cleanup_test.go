package dag

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestBeforeCleanup: the hook runs before each Cleanup, in the cleanup
// order, and its after function once that Cleanup returned; a pause in
// the hook does not use up the cleanup's timeout.
func TestBeforeCleanup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		g := build(t, rec, []spec{
			{id: "a", group: "g"},
			{id: "b", group: "g", deps: []string{"a"}, clean: func(ctx context.Context) error {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("cleanup has no deadline")
				}
				return ctx.Err()
			}},
		})
		res := g.Walk(context.Background(), Options{
			CleanupTimeout: time.Minute,
			BeforeCleanup: func(ctx context.Context, id, group string) func() {
				if _, ok := ctx.Deadline(); ok {
					t.Errorf("BeforeCleanup(%s) got the cleanup's deadline", id)
				}
				rec.add("before " + id + " " + group)
				time.Sleep(time.Hour) // a user taking their time
				return func() { rec.add("after " + id) }
			},
		})
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		want := []string{"run a", "run b", "before b g", "cleanup b", "after b", "before a g", "cleanup a", "after a"}
		if !slices.Equal(rec.log, want) {
			t.Errorf("order %v, want %v", rec.log, want)
		}
		if len(res.Leftover) != 0 {
			t.Errorf("leftover %v", res.Leftover)
		}
	})
}

// TestSerial: a serial walk runs one node at a time in Graph.Order, so
// the first group's nodes all run before the second's, even when a node
// only waits (Waiting keeps the slot).
func TestSerial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		waitHour := func(ctx context.Context) error {
			return Waiting(ctx, func(ctx context.Context) error { return sleep(time.Hour)(ctx) })
		}
		g := build(t, rec, []spec{
			{id: "a1", group: "a", run: waitHour},
			{id: "a2", group: "a", deps: []string{"a1"}},
			{id: "b1", group: "b"},
			{id: "b2", group: "b", deps: []string{"b1"}},
		})
		res := g.Walk(context.Background(), Options{Serial: true, Parallelism: 10})
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		if got := rec.matching("run "); !slices.Equal(got, []string{"run a1", "run a2", "run b1", "run b2"}) {
			t.Errorf("runs %v, want a1 a2 b1 b2", got)
		}
	})
}

package dag

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// twoBuilds is a build "a" that fails provisioning at 1 min while build
// "b" runs for 2 h. Each launch is cleaned up by terminating its instance,
// which takes aTerminate (a) and 2 min (b).
func twoBuilds(aTerminate func(context.Context) error) []spec {
	return []spec{
		{id: "a/key", group: "a"},
		{id: "a/launch", group: "a", deps: []string{"a/key"}, run: sleep(30 * s), clean: aTerminate},
		{id: "a/provision", group: "a", deps: []string{"a/launch"}, run: fail(30*s, "exit 1"), plain: true},
		{id: "a/image", group: "a", deps: []string{"a/provision"}},
		{id: "b/key", group: "b"},
		{id: "b/launch", group: "b", deps: []string{"b/key"}, run: sleep(30 * s), clean: sleep(2 * time.Minute)},
		{id: "b/provision", group: "b", deps: []string{"b/launch"}, run: sleep(2*time.Hour - 30*s), plain: true},
		{id: "b/image", group: "b", deps: []string{"b/provision"}},
	}
}

func TestCleanupPerGroupStartsWhenGroupSettles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		sp := twoBuilds(sleep(2 * time.Minute))
		res := build(t, rec, sp).Walk(t.Context(), Options{})
		want := map[string][]string{
			"a": {"cleanup a/launch", "cleanup a/key"},
			"b": {"cleanup b/image", "cleanup b/launch", "cleanup b/key"},
		}
		if got := cleanupsByGroup(rec, sp); !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("cleanups per group = %q, want %q", got, want)
		}
		// a failed at 1 min: its instance is terminated at once, and done
		// long before b ends.
		if got := rec.when("cleanup a/launch"); got != time.Minute {
			t.Errorf("a's terminate started at %v, want 1m0s (when a failed), not when b ends", got)
		}
		if got := rec.when("cleanup a/key"); got != 3*time.Minute {
			t.Errorf("a's key pair deleted at %v, want 3m0s (after its terminate)", got)
		}
		if got := rec.when("cleanup b/image"); got != 2*time.Hour {
			t.Errorf("b's cleanup started at %v, want 2h0m0s (when b ended)", got)
		}
		a, b := mustGet(t, res, "a/launch"), mustGet(t, res, "b/launch")
		if got := a.CleanupEnd.Sub(rec.start); got != 3*time.Minute {
			t.Errorf("a/launch CleanupEnd at %v, want 3m0s", got)
		}
		if got := b.CleanupStart.Sub(rec.start); got != 2*time.Hour {
			t.Errorf("b/launch CleanupStart at %v, want 2h0m0s", got)
		}
		if got := time.Since(rec.start); got != 2*time.Hour+2*time.Minute {
			t.Errorf("walk returned at %v, want 2h2m0s (after b's cleanup)", got)
		}
		if len(res.Leftover) != 0 || res.CleanupAbandoned {
			t.Errorf("Leftover = %q, CleanupAbandoned = %v; want none", res.Leftover, res.CleanupAbandoned)
		}
	})
}

func TestCleanupAbandonDuringGroupCleanup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		abandon := make(chan struct{})
		time.AfterFunc(2*time.Minute, func() { close(abandon) }) // during a's terminate
		sp := twoBuilds(sleep(10 * time.Minute))
		res := build(t, rec, sp).Walk(t.Context(), Options{Abandon: abandon})
		if got, want := rec.matching("cleanup "), []string{"cleanup a/launch"}; !slices.Equal(got, want) {
			t.Errorf("cleanups = %q, want %q: nothing starts after the abandon", got, want)
		}
		if got := time.Since(rec.start); got != 2*time.Minute {
			t.Errorf("walk returned at %v, want 2m0s: b's run and a's cleanup cut off", got)
		}
		if a := mustGet(t, res, "a/launch"); a.CleanupErr == nil || a.CleanupErr.Error() != "abandoned: context canceled" {
			t.Errorf("a/launch CleanupErr = %v, want abandoned: context canceled", a.CleanupErr)
		}
		if got, want := mustGet(t, res, "b/provision").Status, Cancelled; got != want {
			t.Errorf("b/provision status %s, want %s", got, want)
		}
		want := []string{"a/key", "a/launch", "b/key", "b/launch"} // builds start at the same time
		if !slices.Equal(slices.Sorted(slices.Values(res.Leftover)), want) || !res.CleanupAbandoned || res.Interrupted != ErrAbandoned {
			t.Errorf("Leftover = %q, CleanupAbandoned = %v, Interrupted = %v; want %q, true, ErrAbandoned",
				res.Leftover, res.CleanupAbandoned, res.Interrupted, want)
		}
		for _, id := range want {
			if o := mustGet(t, res, id); !errors.Is(o.CleanupErr, ErrAbandoned) {
				t.Errorf("%s.CleanupErr = %v, want ErrAbandoned", id, o.CleanupErr)
			}
		}
	})
}

func TestCleanupParallelismBound(t *testing.T) {
	tests := []struct {
		limit, groups, wantMax int
		wantElapsed            time.Duration
	}{
		{limit: 2, groups: 5, wantMax: 2, wantElapsed: 3 * 10 * s},
		{limit: 0, groups: 12, wantMax: DefaultCleanupParallelism, wantElapsed: 2 * 10 * s},
		{limit: 20, groups: 3, wantMax: 3, wantElapsed: 10 * s},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var cur, peak atomic.Int32
				clean := func(ctx context.Context) error {
					n := cur.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					defer cur.Add(-1)
					return sleep(10 * s)(ctx)
				}
				var specs []spec
				for i := range tt.groups {
					g := fmt.Sprintf("g%d", i)
					specs = append(specs, spec{id: g + "/a", group: g, clean: clean}, spec{id: g + "/b", group: g, deps: []string{g + "/a"}, plain: true})
				}
				start := time.Now()
				res := build(t, newRecorder(), specs).Walk(t.Context(), Options{CleanupParallelism: tt.limit, Parallelism: 100})
				if res.Failed() {
					t.Fatalf("walk failed: %v", res.Err())
				}
				if got := int(peak.Load()); got != tt.wantMax {
					t.Errorf("max concurrent group cleanups = %d, want %d", got, tt.wantMax)
				}
				if got := time.Since(start); got != tt.wantElapsed {
					t.Errorf("walk took %v, want %v", got, tt.wantElapsed)
				}
			})
		})
	}
}

func TestCleanupGroupsJoinedByDependency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// z (g2) uses what x (g1) made: x is cleaned only after z is done
		// and cleaned, though g1 has nothing running from 1s.
		rec := newRecorder()
		sp := []spec{
			{id: "x", group: "g1", run: sleep(s)},
			{id: "y", group: "g2", run: sleep(5 * s)},
			{id: "z", group: "g2", deps: []string{"x", "y"}, run: sleep(s)},
		}
		build(t, rec, sp).Walk(t.Context(), Options{})
		if got, want := rec.matching("cleanup "), []string{"cleanup z", "cleanup y", "cleanup x"}; !slices.Equal(got, want) {
			t.Errorf("cleanups = %q, want %q", got, want)
		}
		if got := rec.when("cleanup x"); got != 6*s {
			t.Errorf("x cleaned at %v, want 6s (after its dependent z)", got)
		}
	})
}

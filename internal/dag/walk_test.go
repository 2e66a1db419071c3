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

const s = time.Second

func TestWalkStartsNodeWhenDependenciesSucceeded(t *testing.T) {
	tests := []struct {
		name      string
		specs     []spec
		wantStart map[string]time.Duration // fake time each Run started
	}{
		{
			name:      "chain",
			specs:     []spec{{id: "a", run: sleep(1 * s)}, {id: "b", deps: []string{"a"}, run: sleep(2 * s)}, {id: "c", deps: []string{"b"}}},
			wantStart: map[string]time.Duration{"a": 0, "b": 1 * s, "c": 3 * s},
		},
		{
			name: "diamond waits for slowest dependency",
			specs: []spec{
				{id: "a", run: sleep(1 * s)},
				{id: "b", deps: []string{"a"}, run: sleep(2 * s)},
				{id: "c", deps: []string{"a"}, run: sleep(5 * s)},
				{id: "d", deps: []string{"b", "c"}},
			},
			wantStart: map[string]time.Duration{"a": 0, "b": 1 * s, "c": 1 * s, "d": 6 * s},
		},
		{
			name: "dependency across groups",
			specs: []spec{
				{id: "x", group: "g2", run: sleep(4 * s)},
				{id: "y", group: "g1", run: sleep(1 * s)},
				{id: "z", group: "g1", deps: []string{"y", "x"}},
			},
			wantStart: map[string]time.Duration{"x": 0, "y": 0, "z": 4 * s},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				g := build(t, rec, tt.specs)
				res := g.Walk(t.Context(), Options{})
				if err := res.Err(); err != nil {
					t.Fatalf("Err() = %v", err)
				}
				var ids []string
				for _, o := range res.Outcomes {
					ids = append(ids, o.ID)
					if o.Status != Succeeded {
						t.Errorf("%s: status %s, want succeeded", o.ID, o.Status)
					}
					if got := o.Started.Sub(rec.start); got != tt.wantStart[o.ID] {
						t.Errorf("%s started at %v, want %v", o.ID, got, tt.wantStart[o.ID])
					}
				}
				if want := g.Order(); !slices.Equal(ids, want) {
					t.Errorf("Outcomes in order %q, want Order() %q", ids, want)
				}
			})
		})
	}
}

func TestWalkParallelismBound(t *testing.T) {
	tests := []struct {
		parallelism, nodes, wantMax int
		wantElapsed                 time.Duration
	}{
		{parallelism: 1, nodes: 5, wantMax: 1, wantElapsed: 5 * s},
		{parallelism: 3, nodes: 7, wantMax: 3, wantElapsed: 3 * s},
		{parallelism: 0, nodes: 12, wantMax: DefaultParallelism, wantElapsed: 2 * s},
		{parallelism: 20, nodes: 4, wantMax: 4, wantElapsed: 1 * s},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("parallelism %d", tt.parallelism), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var cur, peak atomic.Int32
				run := func(ctx context.Context) error {
					n := cur.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					defer cur.Add(-1)
					return sleep(1 * s)(ctx)
				}
				var specs []spec
				for i := range tt.nodes {
					specs = append(specs, spec{id: string(rune('a' + i)), group: string(rune('a' + i%2)), run: run})
				}
				g := build(t, newRecorder(), specs)
				start := time.Now()
				res := g.Walk(t.Context(), Options{Parallelism: tt.parallelism})
				if res.Failed() {
					t.Fatalf("walk failed: %v", res.Err())
				}
				if got := int(peak.Load()); got != tt.wantMax {
					t.Errorf("max concurrent nodes = %d, want %d", got, tt.wantMax)
				}
				if got := time.Since(start); got != tt.wantElapsed {
					t.Errorf("walk took %v, want %v", got, tt.wantElapsed)
				}
			})
		})
	}
}

func TestWalkFailureSkipsOnlyDependents(t *testing.T) {
	tests := []struct {
		name      string
		specs     []spec
		want      []string
		wantRuns  []string // sorted: simultaneous starts race
		wantErrs  []string
		wantClean []string
	}{
		{
			name: "failed root",
			specs: []spec{
				{id: "a", group: "b1", run: fail(1*s, "boom")},
				{id: "b", group: "b1", deps: []string{"a"}},
				{id: "c", group: "b1", deps: []string{"b"}},
				{id: "d", group: "b1", run: sleep(2 * s)},
				{id: "e", group: "b1", deps: []string{"d", "a"}},
				{id: "x", group: "b2", run: sleep(3 * s)},
				{id: "y", group: "b2", deps: []string{"x"}},
			},
			want:      []string{"a failed", "b skipped (a)", "c skipped (a)", "d succeeded", "e skipped (a)", "x succeeded", "y succeeded"},
			wantRuns:  []string{"run a", "run d", "run x", "run y"},
			wantErrs:  []string{"a: boom"},
			wantClean: []string{"cleanup d", "cleanup a", "cleanup y", "cleanup x"}, // b1 at 2s, b2 at 3s
		},
		{
			name: "failure in the middle skips transitively, naming the failed node",
			specs: []spec{
				{id: "a", group: "b1"},
				{id: "b", group: "b1", deps: []string{"a"}, run: fail(1*s, "provision: exit 1")},
				{id: "c", group: "b1", deps: []string{"b"}},
				{id: "d", group: "b1", deps: []string{"c"}},
				{id: "x", group: "b2", deps: []string{"a"}, run: sleep(2 * s)},
			},
			want:      []string{"a succeeded", "b failed", "c skipped (b)", "d skipped (b)", "x succeeded"},
			wantRuns:  []string{"run a", "run b", "run x"},
			wantErrs:  []string{"b: provision: exit 1"},
			wantClean: []string{"cleanup x", "cleanup b", "cleanup a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				res := build(t, rec, tt.specs).Walk(t.Context(), Options{})
				if got := statuses(res); !slices.Equal(got, tt.want) {
					t.Errorf("statuses = %q, want %q", got, tt.want)
				}
				if got := slices.Sorted(slices.Values(rec.matching("run "))); !slices.Equal(got, tt.wantRuns) {
					t.Errorf("runs = %q, want %q", got, tt.wantRuns)
				}
				if got := errs(res); !slices.Equal(got, tt.wantErrs) {
					t.Errorf("Err() = %q, want %q (no noise for skipped nodes)", got, tt.wantErrs)
				}
				if got := rec.matching("cleanup "); !slices.Equal(got, tt.wantClean) {
					t.Errorf("cleanups = %q, want %q", got, tt.wantClean)
				}
				for _, o := range res.Outcomes {
					if o.Status == Skipped && (o.Err != nil || !o.Started.IsZero() || o.Cleaned) {
						t.Errorf("skipped %s has Err %v, Started %v, Cleaned %v", o.ID, o.Err, o.Started, o.Cleaned)
					}
				}
				if res.Interrupted != nil || !res.Failed() {
					t.Errorf("Interrupted = %v, Failed() = %v; want nil, true", res.Interrupted, res.Failed())
				}
			})
		})
	}
}

func TestWalkFailFast(t *testing.T) {
	specs := func() []spec {
		return []spec{
			{id: "a", group: "g1", run: fail(1*s, "boom")},
			{id: "b", group: "g1", deps: []string{"a"}},
			{id: "x", group: "g2", run: sleep(5 * s)},
			{id: "y", group: "g2", deps: []string{"x"}, run: sleep(1 * s)},
			{id: "z", group: "g3", run: sleep(1 * s)},
		}
	}
	tests := []struct {
		name      string
		failFast  bool
		want      []string
		wantXEnd  time.Duration
		wantClean map[string][]string // per group
		wantAt    map[string]time.Duration
	}{
		{
			name:      "off: other groups finish",
			want:      []string{"a failed", "b skipped (a)", "x succeeded", "y succeeded", "z succeeded"},
			wantXEnd:  5 * s,
			wantClean: map[string][]string{"g1": {"cleanup a"}, "g2": {"cleanup y", "cleanup x"}, "g3": {"cleanup z"}},
			wantAt:    map[string]time.Duration{"cleanup a": 1 * s, "cleanup z": 2 * s, "cleanup y": 6 * s, "cleanup x": 6 * s},
		},
		{
			name:      "on: first failure cancels every group",
			failFast:  true,
			want:      []string{"a failed", "b skipped (a)", "x cancelled", "y cancelled", "z cancelled"},
			wantXEnd:  1 * s,
			wantClean: map[string][]string{"g1": {"cleanup a"}, "g2": {"cleanup x"}},
			wantAt:    map[string]time.Duration{"cleanup a": 1 * s, "cleanup x": 1 * s},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				sp := specs()
				res := build(t, rec, sp).Walk(t.Context(), Options{Parallelism: 2, FailFast: tt.failFast})
				if got := statuses(res); !slices.Equal(got, tt.want) {
					t.Errorf("statuses = %q, want %q", got, tt.want)
				}
				if got := mustGet(t, res, "x").Finished.Sub(rec.start); got != tt.wantXEnd {
					t.Errorf("x finished at %v, want %v", got, tt.wantXEnd)
				}
				if got := cleanupsByGroup(rec, sp); !maps.EqualFunc(got, tt.wantClean, slices.Equal) {
					t.Errorf("cleanups per group = %q, want %q", got, tt.wantClean)
				}
				for c, want := range tt.wantAt {
					if got := rec.when(c); got != want {
						t.Errorf("%s started at %v, want %v", c, got, want)
					}
				}
				if got, want := errs(res), []string{"a: boom"}; !slices.Equal(got, want) {
					t.Errorf("Err() = %q, want %q", got, want)
				}
				if res.Interrupted != nil {
					t.Errorf("Interrupted = %v, want nil: fail-fast is not an interruption", res.Interrupted)
				}
			})
		})
	}
}

func TestWalkCancelledContext(t *testing.T) {
	interrupt := errors.New("interrupt")
	tests := []struct {
		name      string
		cancelAt  time.Duration // < 0: before Walk
		want      []string
		wantRuns  []string // sorted: simultaneous starts race
		wantClean []string
		wantBErr  error
	}{
		{
			name:     "before walk: nothing starts",
			cancelAt: -1,
			want:     []string{"a cancelled", "b cancelled", "c cancelled", "d cancelled"},
		},
		{
			name:      "during run: running nodes see it, pending ones never start",
			cancelAt:  1500 * time.Millisecond,
			want:      []string{"a succeeded", "b cancelled", "c cancelled", "d succeeded"},
			wantRuns:  []string{"run a", "run b", "run d"},
			wantClean: []string{"cleanup b", "cleanup d", "cleanup a"},
			wantBErr:  context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				ignoreCtx := func(context.Context) error { time.Sleep(2 * s); return nil }
				g := build(t, rec, []spec{
					{id: "a", run: sleep(1 * s)},
					{id: "b", deps: []string{"a"}, run: sleep(5 * s)},
					{id: "c", deps: []string{"b"}},
					{id: "d", run: ignoreCtx},
				})
				ctx, cancel := context.WithCancelCause(t.Context())
				if tt.cancelAt < 0 {
					cancel(interrupt)
				} else {
					time.AfterFunc(tt.cancelAt, func() { cancel(interrupt) })
				}
				res := g.Walk(ctx, Options{})
				if got := statuses(res); !slices.Equal(got, tt.want) {
					t.Errorf("statuses = %q, want %q", got, tt.want)
				}
				if got := slices.Sorted(slices.Values(rec.matching("run "))); !slices.Equal(got, tt.wantRuns) {
					t.Errorf("runs = %q, want %q", got, tt.wantRuns)
				}
				if got := rec.matching("cleanup "); !slices.Equal(got, tt.wantClean) {
					t.Errorf("cleanups = %q, want %q", got, tt.wantClean)
				}
				if got := mustGet(t, res, "b").Err; got != tt.wantBErr {
					t.Errorf("b.Err = %v, want %v", got, tt.wantBErr)
				}
				if res.Interrupted != interrupt {
					t.Errorf("Interrupted = %v, want %v", res.Interrupted, interrupt)
				}
				if got, want := errs(res), []string{"interrupted: interrupt"}; !slices.Equal(got, want) {
					t.Errorf("Err() = %q, want %q", got, want)
				}
			})
		})
	}
}

func TestWalkPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		g := build(t, rec, []spec{
			{id: "a", run: func(context.Context) error { panic("kaboom") }},
			{id: "b", deps: []string{"a"}},
			{id: "c", run: sleep(1 * s), clean: func(context.Context) error { panic("cleanup kaboom") }},
			{id: "d", deps: []string{"c"}},
		})
		res := g.Walk(t.Context(), Options{})
		if got, want := statuses(res), []string{"a failed", "b skipped (a)", "c succeeded", "d succeeded"}; !slices.Equal(got, want) {
			t.Errorf("statuses = %q, want %q", got, want)
		}
		var p *PanicError
		if a := mustGet(t, res, "a"); !errors.As(a.Err, &p) || p.Value != "kaboom" || len(p.Stack) == 0 {
			t.Errorf("a.Err = %#v, want a *PanicError with value kaboom and a stack", a.Err)
		}
		if got, want := rec.matching("cleanup "), []string{"cleanup d", "cleanup c", "cleanup a"}; !slices.Equal(got, want) {
			t.Errorf("cleanups = %q, want %q: a panicking node is still cleaned, and so are the others", got, want)
		}
		if got, want := res.Leftover, []string{"c"}; !slices.Equal(got, want) {
			t.Errorf("Leftover = %q, want %q", got, want)
		}
		want := []string{"a: panic: kaboom", "cleanup of c: panic: cleanup kaboom"}
		if got := errs(res); !slices.Equal(got, want) {
			t.Errorf("Err() = %q, want %q", got, want)
		}
	})
}

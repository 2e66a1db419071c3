package dag

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestCleanupReverseStartOrder(t *testing.T) {
	// Start order: a and c at 0 (Order breaks the tie), d at 0.5s, b at 1s,
	// e at 3s. c is not a Cleaner.
	specs := func(bRun func(context.Context) error) []spec {
		return []spec{
			{id: "a", group: "g1", run: sleep(1 * s)},
			{id: "b", group: "g1", deps: []string{"a"}, run: bRun},
			{id: "c", group: "g2", run: sleep(s / 2), plain: true},
			{id: "d", group: "g2", deps: []string{"c"}, run: sleep(3 * s)},
			{id: "e", group: "g1", deps: []string{"b"}},
		}
	}
	tests := []struct {
		name      string
		bRun      func(context.Context) error
		cancelAt  time.Duration
		want      []string
		wantClean map[string][]string // per group
	}{
		{
			name:      "success",
			bRun:      sleep(2 * s),
			want:      []string{"a succeeded", "b succeeded", "c succeeded", "d succeeded", "e succeeded"},
			wantClean: map[string][]string{"g1": {"cleanup e", "cleanup b", "cleanup a"}, "g2": {"cleanup d"}},
		},
		{
			name:      "failure: failed node cleaned, skipped node not",
			bRun:      fail(2*s, "boom"),
			want:      []string{"a succeeded", "b failed", "c succeeded", "d succeeded", "e skipped (b)"},
			wantClean: map[string][]string{"g1": {"cleanup b", "cleanup a"}, "g2": {"cleanup d"}},
		},
		{
			name:      "cancelled during run: running nodes cleaned, unstarted not",
			bRun:      sleep(2 * s),
			cancelAt:  2 * s,
			want:      []string{"a succeeded", "b cancelled", "c succeeded", "d cancelled", "e cancelled"},
			wantClean: map[string][]string{"g1": {"cleanup b", "cleanup a"}, "g2": {"cleanup d"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.cancelAt > 0 {
					time.AfterFunc(tt.cancelAt, cancel)
				}
				sp := specs(tt.bRun)
				res := build(t, rec, sp).Walk(ctx, Options{})
				if got := statuses(res); !slices.Equal(got, tt.want) {
					t.Errorf("statuses = %q, want %q", got, tt.want)
				}
				if got := cleanupsByGroup(rec, sp); !maps.EqualFunc(got, tt.wantClean, slices.Equal) {
					t.Errorf("cleanups per group = %q, want %q", got, tt.wantClean)
				}
				var cleaned []string
				for _, o := range res.Outcomes {
					if o.Cleaned {
						cleaned = append(cleaned, "cleanup "+o.ID)
					}
				}
				want := slices.Concat(slices.Collect(maps.Values(tt.wantClean))...)
				if slices.Sort(want); !slices.Equal(cleaned, want) {
					t.Errorf("Cleaned set for %q, want %q", cleaned, want)
				}
				if len(res.Leftover) != 0 || res.CleanupAbandoned {
					t.Errorf("Leftover = %q, CleanupAbandoned = %v; want none", res.Leftover, res.CleanupAbandoned)
				}
			})
		})
	}
}

type ctxKey struct{}

func TestCleanupContextSurvivesCancellation(t *testing.T) {
	tests := []struct {
		timeout      time.Duration
		wantDeadline time.Duration
	}{
		{timeout: 0, wantDeadline: DefaultCleanupTimeout},
		{timeout: 30 * s, wantDeadline: 30 * s},
	}
	for _, tt := range tests {
		t.Run(tt.wantDeadline.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var seenErr error
				var seenValue any
				var seenDeadline time.Duration
				clean := func(ctx context.Context) error {
					seenErr, seenValue = ctx.Err(), ctx.Value(ctxKey{})
					if d, ok := ctx.Deadline(); ok {
						seenDeadline = time.Until(d)
					}
					time.Sleep(tt.wantDeadline - time.Second) // still in time
					return ctx.Err()
				}
				ctx, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "run-42"))
				time.AfterFunc(s, cancel)
				g := build(t, newRecorder(), []spec{{id: "a", run: hang, clean: clean}})
				res := g.Walk(ctx, Options{CleanupTimeout: tt.timeout})
				if seenErr != nil || seenValue != "run-42" || seenDeadline != tt.wantDeadline {
					t.Errorf("cleanup ctx: Err %v, value %v, deadline in %v; want nil, run-42, %v",
						seenErr, seenValue, seenDeadline, tt.wantDeadline)
				}
				if a := mustGet(t, res, "a"); a.Status != Cancelled || !a.Cleaned || a.CleanupErr != nil {
					t.Errorf("a: status %s, Cleaned %v, CleanupErr %v; want cancelled, true, nil", a.Status, a.Cleaned, a.CleanupErr)
				}
			})
		})
	}
}

func TestCleanupTimeoutPerNode(t *testing.T) {
	boom := errors.New("delete sg-123 in eu-west-1: boom")
	tests := []struct {
		name       string
		bClean     func(context.Context) error
		wantErr    string
		wantIs     []error
		wantAAfter time.Duration // from b's cleanup start to a's
	}{
		{
			name:       "hung cleanup is cut off",
			bClean:     hang,
			wantErr:    "timed out after 1m0s: context deadline exceeded",
			wantIs:     []error{ErrCleanupTimeout, context.DeadlineExceeded},
			wantAAfter: time.Minute,
		},
		{
			name:       "failing cleanup keeps its error",
			bClean:     func(context.Context) error { return boom },
			wantErr:    boom.Error(),
			wantIs:     []error{boom},
			wantAAfter: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				g := build(t, rec, []spec{
					{id: "a"},
					{id: "b", deps: []string{"a"}, clean: tt.bClean},
					{id: "c", deps: []string{"b"}},
				})
				res := g.Walk(t.Context(), Options{CleanupTimeout: time.Minute})
				if got, want := rec.matching("cleanup "), []string{"cleanup c", "cleanup b", "cleanup a"}; !slices.Equal(got, want) {
					t.Errorf("cleanups = %q, want %q", got, want)
				}
				b := mustGet(t, res, "b")
				if b.Cleaned || b.CleanupErr == nil || b.CleanupErr.Error() != tt.wantErr {
					t.Fatalf("b: Cleaned %v, CleanupErr %v; want false, %q", b.Cleaned, b.CleanupErr, tt.wantErr)
				}
				for _, target := range tt.wantIs {
					if !errors.Is(b.CleanupErr, target) {
						t.Errorf("b.CleanupErr does not wrap %v", target)
					}
				}
				if got := rec.when("cleanup a") - rec.when("cleanup b"); got != tt.wantAAfter {
					t.Errorf("a's cleanup started %v after b's, want %v (timeout is per node)", got, tt.wantAAfter)
				}
				if !mustGet(t, res, "a").Cleaned || !mustGet(t, res, "c").Cleaned {
					t.Error("a and c not Cleaned")
				}
				if got, want := res.Leftover, []string{"b"}; !slices.Equal(got, want) || res.CleanupAbandoned {
					t.Errorf("Leftover = %q, CleanupAbandoned = %v; want %q, false", got, res.CleanupAbandoned, want)
				}
			})
		})
	}
}

func TestCleanupAbandon(t *testing.T) {
	tests := []struct {
		name          string
		abandonAt     time.Duration // 0: never
		want          []string
		wantClean     []string
		wantLeftover  []string
		wantAbandoned bool
		wantBErr      string
		wantInterrupt error
		wantElapsed   time.Duration
	}{
		{
			name:          "during cleanup: current cut off, rest not run",
			abandonAt:     5 * s,
			want:          []string{"a succeeded", "b succeeded", "c succeeded"},
			wantClean:     []string{"cleanup b"},
			wantLeftover:  []string{"b", "a"},
			wantAbandoned: true,
			wantBErr:      "abandoned: context canceled",
			wantElapsed:   5 * s,
		},
		{
			name:          "during run: run cancelled, no cleanup runs",
			abandonAt:     s + s/2,
			want:          []string{"a succeeded", "b cancelled", "c cancelled"},
			wantLeftover:  []string{"b", "a"},
			wantAbandoned: true,
			wantBErr:      "abandoned",
			wantInterrupt: ErrAbandoned,
			wantElapsed:   s + s/2,
		},
		{
			name:        "never: everything cleaned",
			want:        []string{"a succeeded", "b succeeded", "c succeeded"},
			wantClean:   []string{"cleanup b", "cleanup a"},
			wantElapsed: 3*s + 10*s,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				abandon := make(chan struct{})
				if tt.abandonAt > 0 {
					time.AfterFunc(tt.abandonAt, func() { close(abandon) })
				}
				// c is not a Cleaner: cleanups due are b's, then a's.
				g := build(t, rec, []spec{
					{id: "a", run: sleep(s)},
					{id: "b", deps: []string{"a"}, run: sleep(s), clean: sleep(10 * s)},
					{id: "c", deps: []string{"b"}, run: sleep(s), plain: true},
				})
				res := g.Walk(t.Context(), Options{Abandon: abandon})
				if got := statuses(res); !slices.Equal(got, tt.want) {
					t.Errorf("statuses = %q, want %q", got, tt.want)
				}
				if got := rec.matching("cleanup "); !slices.Equal(got, tt.wantClean) {
					t.Errorf("cleanups = %q, want %q", got, tt.wantClean)
				}
				if !slices.Equal(res.Leftover, tt.wantLeftover) || res.CleanupAbandoned != tt.wantAbandoned {
					t.Errorf("Leftover = %q, CleanupAbandoned = %v; want %q, %v",
						res.Leftover, res.CleanupAbandoned, tt.wantLeftover, tt.wantAbandoned)
				}
				for _, id := range tt.wantLeftover {
					if o := mustGet(t, res, id); !errors.Is(o.CleanupErr, ErrAbandoned) {
						t.Errorf("%s.CleanupErr = %v, want ErrAbandoned", id, o.CleanupErr)
					}
				}
				if b := mustGet(t, res, "b"); tt.wantBErr != "" && (b.CleanupErr == nil || b.CleanupErr.Error() != tt.wantBErr) {
					t.Errorf("b.CleanupErr = %v, want %q", b.CleanupErr, tt.wantBErr)
				}
				if res.Interrupted != tt.wantInterrupt {
					t.Errorf("Interrupted = %v, want %v", res.Interrupted, tt.wantInterrupt)
				}
				if got := time.Since(rec.start); got != tt.wantElapsed {
					t.Errorf("walk took %v, want %v", got, tt.wantElapsed)
				}
			})
		})
	}
}

// TestCleanupWaitsForCancelledRun: an interrupt does not settle a node
// that is running; its group's cleanups start only once its Run has
// returned (a create whose answer is on its way must be seen by its own
// cleanup), even when the other nodes of the group settle at once.
func TestCleanupWaitsForCancelledRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		slowReturn := func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(5 * s) // the create's answer arrives after the interrupt
			rec.add("returned a")
			return ctx.Err()
		}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(s, cancel)
		g := build(t, rec, []spec{
			{id: "k", group: "b"},
			{id: "a", group: "b", deps: []string{"k"}, run: slowReturn},
			{id: "later", group: "b", deps: []string{"a"}},
		})
		g.Walk(ctx, Options{})
		if got, want := rec.matching("cleanup "), []string{"cleanup a", "cleanup k"}; !slices.Equal(got, want) {
			t.Fatalf("cleanups %v, want %v", got, want)
		}
		if rec.when("cleanup k") < rec.when("returned a") || rec.when("cleanup a") < rec.when("returned a") {
			t.Errorf("cleanups started at %v and %v, before a's Run returned at %v",
				rec.when("cleanup a"), rec.when("cleanup k"), rec.when("returned a"))
		}
	})
}

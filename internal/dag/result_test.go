package dag

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
)

func TestWalkEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []string
		onEvent := func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			line := e.Kind.String() + " " + e.Group + "/" + e.ID
			if e.Kind == NodeFinished {
				line += " " + e.Status.String()
			}
			if e.Err != nil {
				line += ": " + e.Err.Error()
			}
			got = append(got, line)
		}
		g := build(t, newRecorder(), []spec{
			{id: "a", group: "web", run: sleep(1 * s)},
			{id: "b", group: "web", deps: []string{"a"}, run: fail(1*s, "boom"), clean: fail(0, "leak")},
			{id: "c", group: "web", deps: []string{"b"}},
		})
		g.Walk(t.Context(), Options{OnEvent: onEvent})
		want := []string{
			"node started web/a", "node finished web/a succeeded",
			"node started web/b", "node finished web/b failed: boom",
			"cleanup started web/b", "cleanup finished web/b: leak",
			"cleanup started web/a", "cleanup finished web/a",
		}
		if !slices.Equal(got, want) {
			t.Errorf("events:\n got %q\nwant %q", got, want)
		}
	})
}

func TestWalkInvalidGraph(t *testing.T) {
	rec := newRecorder()
	g := New()
	for _, n := range []struct{ id, dep string }{{"a", "b"}, {"b", "a"}, {"c", ""}} {
		var deps []string
		if n.dep != "" {
			deps = []string{n.dep}
		}
		if err := g.Add(n.id, "build", &cleanStep{step: step{id: n.id, rec: rec}}, deps...); err != nil {
			t.Fatal(err)
		}
	}
	res := g.Walk(t.Context(), Options{})
	if !errors.Is(res.GraphErr, ErrCycle) {
		t.Errorf("GraphErr = %v, want ErrCycle", res.GraphErr)
	}
	if got, want := statuses(res), []string{"c not run", "a not run", "b not run"}; !slices.Equal(got, want) {
		t.Errorf("statuses = %q, want %q", got, want)
	}
	if len(rec.log) != 0 || !res.Failed() {
		t.Errorf("recorded %q, Failed() = %v; want nothing run and true", rec.log, res.Failed())
	}
}

func TestResult(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		res      Result
		wantErrs []string
	}{
		{
			name: "all succeeded and cleaned",
			res:  Result{Outcomes: []Outcome{{ID: "a", Status: Succeeded, Cleaned: true}, {ID: "b", Status: Succeeded}}},
		},
		{
			name: "failures, cleanups and interruption in order",
			res: Result{
				Interrupted: context.Canceled,
				Outcomes: []Outcome{
					{ID: "a", Status: Failed, Err: boom, CleanupErr: ErrAbandoned},
					{ID: "b", Status: Skipped, SkippedBecause: "a"},
					{ID: "c", Status: Cancelled, Err: context.Canceled},
					{ID: "d", Status: Succeeded, CleanupErr: boom},
				},
			},
			wantErrs: []string{"interrupted: context canceled", "a: boom", "cleanup of a: abandoned", "cleanup of d: boom"},
		},
		{
			name:     "invalid graph",
			res:      Result{GraphErr: ErrCycle, Outcomes: []Outcome{{ID: "a"}}},
			wantErrs: []string{"invalid graph: dependency cycle"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errs(&tt.res); !slices.Equal(got, tt.wantErrs) {
				t.Errorf("Err() = %q, want %q", got, tt.wantErrs)
			}
			if got, want := tt.res.Failed(), tt.wantErrs != nil; got != want {
				t.Errorf("Failed() = %v, want %v", got, want)
			}
			if o, ok := tt.res.Get("a"); !ok || o.ID != "a" {
				t.Errorf(`Get("a") = %+v, %v`, o, ok)
			}
			if _, ok := tt.res.Get("zz"); ok {
				t.Error(`Get("zz") found an outcome`)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{NotRun.String(), "not run"},
		{Succeeded.String(), "succeeded"},
		{Failed.String(), "failed"},
		{Skipped.String(), "skipped"},
		{Cancelled.String(), "cancelled"},
		{Status(42).String(), "Status(42)"},
		{NodeStarted.String(), "node started"},
		{CleanupFinished.String(), "cleanup finished"},
		{EventKind(-1).String(), "EventKind(-1)"},
		{(&PanicError{Value: 3}).Error(), "panic: 3"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

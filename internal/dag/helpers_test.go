package dag

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recorder keeps what the fake nodes did, in order, with the fake time.
type recorder struct {
	mu    sync.Mutex
	start time.Time
	log   []string
	at    map[string]time.Duration
}

func newRecorder() *recorder {
	return &recorder{start: time.Now(), at: make(map[string]time.Duration)}
}

func (r *recorder) add(what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, what)
	r.at[what] = time.Since(r.start)
}

// matching returns the recorded entries that start with prefix, in order.
func (r *recorder) matching(prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.log {
		if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
			out = append(out, s)
		}
	}
	return out
}

// when returns how long after the recorder was made what happened.
func (r *recorder) when(what string) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[what]
}

// spec describes one fake node. Nodes are Cleaners unless plain is set.
type spec struct {
	id, group string
	deps      []string
	run       func(ctx context.Context) error // nil: succeed at once
	clean     func(ctx context.Context) error // nil: clean at once
	plain     bool
}

type step struct {
	id  string
	rec *recorder
	run func(ctx context.Context) error
}

func (s *step) Run(ctx context.Context) error {
	s.rec.add("run " + s.id)
	if s.run == nil {
		return nil
	}
	return s.run(ctx)
}

type cleanStep struct {
	step
	clean func(ctx context.Context) error
}

func (s *cleanStep) Cleanup(ctx context.Context) error {
	s.rec.add("cleanup " + s.id)
	if s.clean == nil {
		return nil
	}
	return s.clean(ctx)
}

// build makes a valid graph of specs whose nodes report to rec.
func build(t *testing.T, rec *recorder, specs []spec) *Graph {
	t.Helper()
	g := New()
	for _, s := range specs {
		var n Node = &step{id: s.id, rec: rec, run: s.run}
		if !s.plain {
			n = &cleanStep{step: step{id: s.id, rec: rec, run: s.run}, clean: s.clean}
		}
		if err := g.Add(s.id, s.group, n, s.deps...); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	return g
}

// sleep returns a Run that takes d, or returns ctx.Err() if cancelled first.
func sleep(d time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fail returns a Run that fails with msg after d.
func fail(d time.Duration, msg string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := sleep(d)(ctx); err != nil {
			return err
		}
		return errors.New(msg)
	}
}

// hang returns a Run or Cleanup that returns only when ctx is done.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// statuses renders each outcome as "id status", with the failed ancestor
// of skipped nodes, in Outcomes order.
func statuses(r *Result) []string {
	out := make([]string, 0, len(r.Outcomes))
	for _, o := range r.Outcomes {
		s := fmt.Sprintf("%s %s", o.ID, o.Status)
		if o.SkippedBecause != "" {
			s += " (" + o.SkippedBecause + ")"
		}
		out = append(out, s)
	}
	return out
}

// errs returns the messages of the errors aggregated by r.Err.
func errs(r *Result) []string {
	err := r.Err()
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range err.(interface{ WrappedErrors() []error }).WrappedErrors() {
		out = append(out, e.Error())
	}
	return out
}

func mustGet(t *testing.T, r *Result, id string) Outcome {
	t.Helper()
	o, ok := r.Get(id)
	if !ok {
		t.Fatalf("no outcome for %q", id)
	}
	return o
}

// cleanupsByGroup returns, per group of specs, the cleanups rec saw in that
// group, in order. Groups clean up concurrently, so only the order within
// a group is determined.
func cleanupsByGroup(rec *recorder, specs []spec) map[string][]string {
	group := map[string]string{}
	for _, s := range specs {
		group[s.id] = s.group
	}
	out := map[string][]string{}
	for _, c := range rec.matching("cleanup ") {
		g := group[c[len("cleanup "):]]
		out[g] = append(out[g], c)
	}
	return out
}

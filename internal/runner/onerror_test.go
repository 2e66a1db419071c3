package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// flaky fails its first fails runs.
type flaky struct {
	fails, runs int
	cleaned     int
}

func (f *flaky) Run(context.Context) error {
	f.runs++
	if f.runs <= f.fails {
		return errors.New("boom")
	}
	return nil
}

func (f *flaky) errorCleanup(context.Context) { f.cleaned++ }

// lines returns an Input that answers with each line, then io.EOF.
func lines(answers ...string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		if len(answers) == 0 {
			return "", io.EOF
		}
		a := answers[0]
		answers = answers[1:]
		return a, nil
	}
}

// TestAsk: -on-error=ask asks Packer's question at a failed step until it
// gets c, a or r (an empty line or the end of the input is c); r runs the
// step again, a marks the step as aborting the run, c lets the failure
// stand after the error-cleanup-provisioner ran.
func TestAsk(t *testing.T) {
	tests := []struct {
		name      string
		fails     int
		answers   []string
		wantErr   bool
		wantRuns  int
		aborted   bool
		cleaned   int
		wantAsked int
	}{
		{"retry then success", 1, []string{"r"}, false, 2, false, 0, 1},
		{"unknown answer asks again", 1, []string{"x", "R"}, false, 2, false, 0, 2},
		{"abort", 5, []string{"a"}, true, 1, true, 0, 1},
		{"cleanup", 5, []string{"c"}, true, 1, false, 1, 1},
		{"empty line is cleanup", 5, []string{""}, true, 1, false, 1, 1},
		{"end of input is cleanup", 5, nil, true, 1, false, 1, 1},
		{"success asks nothing", 0, nil, false, 1, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &run{opts: Options{OnError: OnErrorAsk, UI: ui.New(&out, &out), Plan: &plan.Plan{}, Input: lines(tt.answers...)}}
			r.asker = &asker{r: r, abortedIDs: map[string]bool{}}
			f := &flaky{fails: tt.fails}
			err := r.asker.wrap("web/provision-1", "web", f).Run(context.Background())
			if (err != nil) != tt.wantErr || f.runs != tt.wantRuns || f.cleaned != tt.cleaned {
				t.Errorf("error %v, %d runs, %d error cleanups; want error %v, %d runs, %d cleanups", err, f.runs, f.cleaned, tt.wantErr, tt.wantRuns, tt.cleaned)
			}
			if got := r.abortsOn("web/provision-1"); got != tt.aborted {
				t.Errorf("abortsOn = %v, want %v", got, tt.aborted)
			}
			if n := strings.Count(out.String(), askQuestion); n != tt.wantAsked {
				t.Errorf("asked %d times, want %d:\n%s", n, tt.wantAsked, out.String())
			}
		})
	}
}

// TestOnErrorModes: which modes stop the run at a failure and which let a
// failed provisioner run the error-cleanup-provisioner itself.
func TestOnErrorModes(t *testing.T) {
	for mode, want := range map[string][2]bool{
		OnErrorCleanup:               {false, true},
		OnErrorAbort:                 {true, false},
		OnErrorRunCleanupProvisioner: {true, true},
		OnErrorAsk:                   {false, false}, // aborts only when answered a
	} {
		r := &run{opts: Options{OnError: mode}, asker: &asker{abortedIDs: map[string]bool{}}}
		if got := [2]bool{r.abortsOn("x"), r.runsErrorCleanup()}; got != want {
			t.Errorf("%s: aborts, runs error cleanup = %v, want %v", mode, got, want)
		}
	}
}

// nodeFunc is a dag node running f.
type nodeFunc func(context.Context) error

func (f nodeFunc) Run(ctx context.Context) error { return f(ctx) }

// TestAbortIsNotAnInterrupt: when -on-error=abort stops the run at one
// build's failure, the steps of another build it cancels make that build
// "stopped", not the run "interrupted" (exit 130 is for Ctrl-C).
func TestAbortIsNotAnInterrupt(t *testing.T) {
	var out bytes.Buffer
	p := &plan.Plan{}
	for _, name := range []string{"a", "b"} {
		st := &plan.Step{}
		st.ID, st.Kind, st.Label = name+"/provision-1", plan.Provision, "provision"
		p.Builds = append(p.Builds, &plan.BuildPlan{Name: name, Steps: []*plan.Step{st}})
	}
	r := &run{opts: Options{OnError: OnErrorAbort, UI: ui.New(&out, &out), Plan: p, Parallelism: 2, Logger: hclog.NewNullLogger()},
		graph: dag.New(), builds: map[string]*buildRun{}}
	r.abort = make(chan struct{})
	r.opts.Abandon = r.abort
	started := make(chan struct{})
	nodes := map[string]dag.Node{
		"a": nodeFunc(func(context.Context) error { <-started; return errors.New("boom") }),
		"b": nodeFunc(func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() }),
	}
	for i, name := range []string{"a", "b"} {
		r.builds[name] = &buildRun{plan: p.Builds[i]}
		if err := r.graph.Add(name+"/provision-1", name, nodes[name]); err != nil {
			t.Fatal(err)
		}
	}
	res := r.walk(context.Background())
	if res.Interrupted {
		t.Errorf("the run reports an interrupt:\n%s", out.String())
	}
	if len(res.Builds) != 2 || res.Builds[1].Err != ErrStoppedByOnError {
		t.Fatalf("builds %+v, want b stopped by -on-error", res.Builds)
	}
	if !strings.Contains(res.Builds[0].Err.Error(), "boom") {
		t.Errorf("a's error = %v, want boom", res.Builds[0].Err)
	}
}

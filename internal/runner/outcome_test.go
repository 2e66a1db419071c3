package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// fakeBuild is a builder.Build whose artifact is empty.
type fakeBuild struct{ name string }

func (b fakeBuild) Node(*builder.Step) (dag.Node, error) { return nil, errors.New("no builder nodes") }
func (b fakeBuild) Communicator() provision.Communicator { return nil }
func (b fakeBuild) Data() interpolate.Data               { return interpolate.Data{} }
func (b fakeBuild) Artifact() *artifact.Artifact {
	return &artifact.Artifact{BuildName: b.name, BuilderType: "fake"}
}

// fakeNode runs for d, then fails with err (nil: succeeds); its cleanup
// takes clean.
type fakeNode struct {
	d, clean time.Duration
	err      error
}

func (n fakeNode) Run(ctx context.Context) error {
	select {
	case <-time.After(n.d):
		return n.err
	case <-ctx.Done():
		return fmt.Errorf("launch: %w", ctx.Err())
	}
}

func (n fakeNode) Cleanup(context.Context) error {
	time.Sleep(n.clean)
	return nil
}

// fakeRun returns a run of one two-step build per entry of builds, whose
// second step is the given node, and the buffer its UI writes to.
func fakeRun(t *testing.T, opts Options, builds map[string]fakeNode) (*run, *bytes.Buffer) {
	t.Helper()
	out := &bytes.Buffer{}
	opts.UI, opts.Logger, opts.Plan = ui.New(out, out), hclog.NewNullLogger(), &plan.Plan{}
	r := &run{opts: opts, graph: dag.New(), builds: map[string]*buildRun{}}
	for _, name := range []string{"fast", "slow"} {
		n, ok := builds[name]
		if !ok {
			continue
		}
		bp := &plan.BuildPlan{Name: name, Steps: []*plan.Step{
			{Step: builder.Step{ID: name + "/key", Kind: "key-pair", Label: "key pair", Cleanup: "delete key pair"}},
			{Step: builder.Step{ID: name + "/launch", Kind: "launch", Deps: []string{name + "/key"}, Label: "launch", Cleanup: "terminate"}},
		}}
		opts.Plan.Builds = append(opts.Plan.Builds, bp)
		r.builds[name] = &buildRun{plan: bp, build: fakeBuild{name}}
		nodes := []dag.Node{fakeNode{}, n}
		for i, s := range bp.Steps {
			if err := r.graph.Add(s.ID, name, nodes[i], s.Deps...); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r, out
}

func TestBuildResults(t *testing.T) {
	boom := errors.New("launch: boom")
	tests := []struct {
		name          string
		opts          Options
		cancelAt      time.Duration
		wantDuration  map[string]time.Duration
		wantErr       map[string]error
		wantSummary   []string
		wantNoSummary string
	}{
		{
			name:         "each build timed on its own",
			wantDuration: map[string]time.Duration{"fast": 100 * time.Millisecond, "slow": 28*time.Second + time.Second},
			wantErr:      map[string]error{"fast": boom},
			wantSummary: []string{
				"--> fast: failed after 100ms: launch: boom",
				"--> slow: succeeded in 29s",
				"==> Run r1 finished in 29s.",
			},
		},
		{
			name:         "interrupt",
			cancelAt:     5 * time.Second,
			wantDuration: map[string]time.Duration{"fast": 100 * time.Millisecond, "slow": 5*time.Second + time.Second},
			wantErr:      map[string]error{"fast": boom, "slow": ErrInterrupted},
			wantSummary: []string{
				"--> fast: failed after 100ms: launch: boom",
				"--> slow: interrupted after 6s",
				"==> Run r1 interrupted after 6s.",
			},
			wantNoSummary: "context canceled",
		},
		{
			name:          "fail-fast",
			opts:          Options{FailFast: true},
			wantDuration:  map[string]time.Duration{"fast": 100 * time.Millisecond, "slow": 100*time.Millisecond + time.Second},
			wantErr:       map[string]error{"fast": boom, "slow": ErrStoppedByFailFast},
			wantSummary:   []string{"--> slow: failed after 1.1s: stopped because another build failed (--fail-fast)"},
			wantNoSummary: "context canceled",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				r, out := fakeRun(t, tt.opts, map[string]fakeNode{
					"fast": {d: 100 * time.Millisecond, err: boom},
					"slow": {d: 28 * time.Second, clean: time.Second},
				})
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.cancelAt > 0 {
					time.AfterFunc(tt.cancelAt, cancel)
				}
				res := r.walk(ctx)
				res.RunID, res.Duration = "r1", time.Since(start)
				for _, b := range res.Builds {
					if b.Duration != tt.wantDuration[b.Name] {
						t.Errorf("%s: Duration %v, want %v", b.Name, b.Duration, tt.wantDuration[b.Name])
					}
					if want := tt.wantErr[b.Name]; b.Err != want {
						t.Errorf("%s: Err %v, want %v", b.Name, b.Err, want)
					}
				}
				WriteSummary(r.opts.UI, res)
				for _, line := range tt.wantSummary {
					if !strings.Contains(out.String(), line+"\n") {
						t.Errorf("summary lacks %q:\n%s", line, out)
					}
				}
				if tt.wantNoSummary != "" && strings.Contains(out.String(), tt.wantNoSummary) {
					t.Errorf("output says %q:\n%s", tt.wantNoSummary, out)
				}
			})
		})
	}
}

func TestStoppedBuildErrorsAreCancellations(t *testing.T) {
	for _, err := range []error{ErrInterrupted, ErrStoppedByFailFast} {
		if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "context canceled") {
			t.Errorf("%q: errors.Is(context.Canceled) = %v, want true, and no \"context canceled\" in the message",
				err, errors.Is(err, context.Canceled))
		}
	}
	if errors.Is(ErrInterrupted, ErrStoppedByFailFast) {
		t.Error("ErrInterrupted matches ErrStoppedByFailFast")
	}
}

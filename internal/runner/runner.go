package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// Options configures a run.
type Options struct {
	Template *template.Template
	Plan     *plan.Plan
	// StateDir is where the run's journal is written.
	StateDir string
	// Parallelism bounds how many nodes (across all builds) run at once.
	Parallelism int
	// FailFast stops every build when one fails.
	FailFast bool
	// Force builds every build even when images of its fingerprint exist
	// in every region.
	Force bool
	// Abandon, when closed, abandons cleanup (a second Ctrl-C).
	Abandon <-chan struct{}
	// OnError is Packer's -on-error: OnErrorCleanup (also "") cleans up
	// after a failure; OnErrorAbort stops the run at the first failed step
	// and leaves what it created in place, journaled for
	// `imgbuild cleanup --run`; OnErrorRunCleanupProvisioner does the same
	// after running the build's error-cleanup-provisioner; OnErrorAsk
	// asks at each failed step (through Input) whether to clean up, abort
	// or retry it.
	OnError string
	// Debug is Packer's -debug: one step (or cleanup) at a time, builds in
	// order, a pause after each step that succeeded and before each
	// cleanup until Input returns, and builders save the temporary SSH key
	// in the working directory (builder.Env.Debug).
	Debug bool
	// Input reads one line the user types (without its newline), for
	// -debug's pauses and -on-error=ask's questions; it returns ctx's
	// error when ctx is done first, and an error at the end of the input.
	// Nil: the pauses do not wait and the questions are answered c.
	Input func(ctx context.Context) (string, error)
	// CleanupTimeout bounds each node's cleanup.
	CleanupTimeout time.Duration
	UI             *ui.UI
	Logger         hclog.Logger
	Version        string
}

// Result is the outcome of a run.
type Result struct {
	RunID   string
	Journal string // path of the run's journal
	Builds  []*BuildResult
	// Interrupted is set when the run was cancelled (Ctrl-C).
	Interrupted bool
	// CleanupAbandoned is set when a second interrupt stopped cleanup.
	CleanupAbandoned bool
	Duration         time.Duration
}

// BuildResult is the outcome of one build.
type BuildResult struct {
	Name     string
	OK       bool
	Err      error
	Artifact *artifact.Artifact
	// Leftover lists the steps whose cleanup did not finish: what they
	// created may still exist.
	Leftover []string
	Duration time.Duration
}

// Failed reports whether any build failed, the run was interrupted, or
// cleanup left something behind (the user has to act).
func (r *Result) Failed() bool {
	if r.Interrupted || r.CleanupAbandoned {
		return true
	}
	for _, b := range r.Builds {
		if !b.OK || len(b.Leftover) > 0 {
			return true
		}
	}
	return false
}

// Run executes the plan. It returns an error only when the run could not
// start (journal, credentials, an unknown builder); build failures are in
// the Result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	jw, err := journal.Create(opts.StateDir, journal.Header{
		Template: opts.Template.Path, Builds: buildNames(opts.Plan), Version: opts.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("start run journal in %s: %w", opts.StateDir, err)
	}
	defer jw.Close()
	// Shown before anything is created, so that even a killed run has told
	// which run ID `imgbuild cleanup --run` needs.
	opts.UI.Say("==> Run %s started (journal %s)", jw.RunID(), jw.Path())
	r := &run{opts: opts, journal: jw, graph: dag.New(), builds: map[string]*buildRun{},
		progress: opts.UI.NewProgress(ui.IsTerminal(opts.UI.Out()))}
	if opts.Debug {
		r.debug = &debugger{r: r}
	}
	if opts.OnError == OnErrorAsk {
		r.asker = &asker{r: r, abortedIDs: map[string]bool{}}
	}
	if opts.OnError == OnErrorAbort || opts.OnError == OnErrorAsk || opts.OnError == OnErrorRunCleanupProvisioner {
		r.abort = make(chan struct{})
		r.opts.Abandon = eitherClosed(opts.Abandon, r.abort)
		// After the walk, closing it ends eitherClosed's goroutine.
		defer r.abortOnce.Do(func() { close(r.abort) })
	}
	defer r.progress.Close()
	defer r.releaseLeases(ctx)
	if err := r.addBuilds(ctx); err != nil {
		_ = jw.End(journal.OutcomeFailed)
		return nil, err
	}
	res := r.walk(ctx)
	res.RunID, res.Journal, res.Duration = jw.RunID(), jw.Path(), time.Since(start)
	outcome := journal.OutcomeOK
	if res.Failed() {
		outcome = journal.OutcomeFailed
	}
	if !res.CleanupAbandoned && allCleaned(res) {
		if err := jw.End(outcome); err != nil {
			opts.Logger.Warn("end journal", "error", err)
		}
	}
	return res, nil
}

func buildNames(p *plan.Plan) []string {
	out := make([]string, 0, len(p.Builds))
	for _, b := range p.Builds {
		out = append(out, b.Name)
	}
	return out
}

func allCleaned(res *Result) bool {
	for _, b := range res.Builds {
		if len(b.Leftover) > 0 {
			return false
		}
	}
	return true
}

// run is the state of one Run call.
type run struct {
	opts    Options
	journal *journal.Writer
	graph   *dag.Graph
	builds  map[string]*buildRun // by build name
	// progress shows image creation and copies, per build and region.
	progress *ui.Progress

	mu       sync.Mutex
	releases []func(context.Context) error // of the leases the run holds

	// debug is set with Options.Debug.
	debug *debugger
	// asker is set with -on-error=ask.
	asker *asker

	// abort, with -on-error=abort or run-cleanup-provisioner, is closed
	// (once) by the first failed step, and with -on-error=ask by a step the
	// user chose to abort at; it abandons the walk and its cleanups.
	abort     chan struct{}
	abortOnce sync.Once
	// abortedOnError is set when a failure closed abort (not the walk's end).
	abortedOnError atomic.Bool
}

// releaseLeases releases every lease the run took, with a context that
// survives an interrupt.
func (r *run) releaseLeases(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, release := range r.releases {
		if err := release(ctx); err != nil {
			r.opts.Logger.Warn("release lease", "error", err)
		}
	}
	r.releases = nil
}

// buildRun ties a plan to the builder running it.
type buildRun struct {
	plan  *plan.BuildPlan
	build builder.Build
	env   *builder.Env
	// chains holds the artifact each post-processor chain passes on;
	// chains of one build run concurrently.
	mu     sync.Mutex
	chains map[int]*artifact.Artifact
	failed bool // a node of this build did not succeed

	// artifact: the build's artifact with its boot payload written (in
	// payloadDir, the working directory), once
	payloadDir string
	once       sync.Once
	art        *artifact.Artifact
	artErr     error
}

// artifact returns the build's artifact after writing its boot payload
// in the working directory (once: post-processor chains ask at the same time).
func (br *buildRun) artifact() (*artifact.Artifact, error) {
	br.once.Do(func() {
		br.art = br.build.Artifact()
		br.artErr = writeBootPayload(br.plan, br.payloadDir, br.art)
	})
	return br.art, br.artErr
}

func (r *run) walk(ctx context.Context) *Result {
	opts := dag.Options{
		Parallelism: r.opts.Parallelism, FailFast: r.opts.FailFast, Abandon: r.opts.Abandon,
		CleanupTimeout: r.opts.CleanupTimeout, Logger: r.opts.Logger, OnEvent: r.onEvent,
	}
	if r.debug != nil {
		r.debug.walkCtx = ctx
		opts.Serial, opts.BeforeCleanup = true, r.debug.beforeCleanup
	}
	res := r.graph.Walk(ctx, opts)
	if r.abortedOnError.Load() && ctx.Err() == nil && errors.Is(res.Interrupted, dag.ErrAbandoned) {
		// The run stopped because -on-error said so, not because of an
		// interrupt: steps it cancelled on the way are not an interrupt,
		// however the cancellation raced with the failure that caused it.
		res.Interrupted = nil
	}
	out := &Result{Interrupted: res.Interrupted != nil, CleanupAbandoned: res.CleanupAbandoned}
	outcomes := make(map[string]dag.Outcome, len(res.Outcomes))
	for _, o := range res.Outcomes {
		outcomes[o.ID] = o
	}
	for _, bp := range r.opts.Plan.Builds {
		b := summarize(bp, outcomes, res)
		if b.Err == ErrStoppedByFailFast && r.abortedOnError.Load() {
			b.Err = ErrStoppedByOnError
		}
		if b.OK {
			a, err := r.builds[bp.Name].artifact()
			b.Artifact = a
			if err != nil {
				b.OK, b.Err = false, err
			}
		}
		out.Builds = append(out.Builds, b)
	}
	return out
}

// eitherClosed returns a channel closed when a or b is (a may be nil).
func eitherClosed(a, b <-chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() {
		select {
		case <-a:
		case <-b:
		}
		close(out)
	}()
	return out
}

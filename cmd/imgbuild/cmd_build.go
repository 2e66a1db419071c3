package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"os"
	"sync"
	"time"

	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/runner"
)

var buildCommand = command{
	synopsis: "Build the images a template describes",
	usage:    "build [options] PATH",
	run:      runBuild,
}

type buildOptions struct {
	only, except    string
	parallel        int
	failFast        bool
	force           bool
	machineReadable bool
	timestampUI     bool
	stateDir        string
	cleanupTimeout  time.Duration
	onError         string
	debug           bool
	tf              templateFlags
}

func (o *buildOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.only, "only", "", "build only the builds matching these comma-separated globs")
	fs.StringVar(&o.except, "except", "", "skip the builds matching these comma-separated globs")
	fs.IntVar(&o.parallel, "parallel", 10, "how many steps (of all builds) run at once")
	fs.BoolVar(&o.failFast, "fail-fast", false, "stop every build as soon as one fails")
	fs.BoolVar(&o.force, "force", false, "build even the builds whose images (same fingerprint) exist in every region")
	fs.BoolVar(&o.machineReadable, "machine-readable", false, "print machine-readable events (timestamp,target,type,data...)")
	fs.BoolVar(&o.timestampUI, "timestamp-ui", false, "prefix each output line with an RFC3339 timestamp")
	fs.StringVar(&o.stateDir, "state-dir", "", "where run journals are kept (default: $IMGBUILD_STATE_DIR, else .imgbuild beside the template)")
	fs.StringVar(&o.onError, "on-error", runner.OnErrorCleanup, "what to do when a build fails: cleanup (remove what the build created), abort (leave it in place, journaled, for imgbuild cleanup --run), ask (at each failed step: clean up, abort or retry it) or run-cleanup-provisioner (run the build's error-cleanup-provisioner, then abort)")
	fs.BoolVar(&o.debug, "debug", false, "debug mode (Packer's): run one step at a time, pausing after each step and before each cleanup until Enter is pressed, and save each build's temporary SSH key as ec2_<build>.pem in the working directory")
	fs.DurationVar(&o.cleanupTimeout, "cleanup-timeout", 15*time.Minute, "how long each cleanup step may take")
	o.tf.register(fs)
}

func runBuild(ctx context.Context, e *env, args []string) int {
	var o buildOptions
	fs := newFlagSet(e, "build")
	o.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	path, ok := onePath(e, fs)
	if !ok {
		return exitUsage
	}
	e.ui.SetMachineReadable(o.machineReadable)
	e.ui.SetTimestamps(o.timestampUI)
	switch o.onError {
	case runner.OnErrorCleanup, runner.OnErrorAbort, runner.OnErrorAsk, runner.OnErrorRunCleanupProvisioner:
	default:
		e.ui.Error("-on-error=%q: must be one of cleanup, abort, ask, run-cleanup-provisioner", o.onError)
		return exitUsage
	}
	logger, closeLog := newLogger(e)
	defer closeLog()
	ev, err := newDataEvaluator(ctx, e)
	if err != nil {
		e.ui.Error("%v", err)
		return exitFailed
	}
	t, code := loadTemplate(e, path, o.tf, templateOptionsWith(ev))
	if t == nil {
		return code
	}
	p, err := plan.New(t, plan.Selection{Only: splitGlobs(o.only), Except: splitGlobs(o.except)})
	if err != nil {
		e.ui.Error("%v", err)
		return exitUsage
	}
	if o.debug {
		e.ui.Say("Debug mode enabled. Builds will not be parallelized.")
	}
	res, err := runner.Run(ctx, runner.Options{
		Template: t, Plan: p, StateDir: stateDir(e, o.stateDir, path), Parallelism: o.parallel,
		FailFast: o.failFast, Force: o.force, Abandon: abandonOnSecondInterrupt(e), CleanupTimeout: o.cleanupTimeout,
		UI: e.ui, Logger: logger, Version: version, OnError: o.onError,
		Debug: o.debug, Input: newLineInput(e.stdin).read,
	})
	if err != nil {
		e.ui.Error("%v", err)
		return exitCodeFor(err)
	}
	runner.WriteSummary(e.ui, res)
	switch {
	case res.Interrupted:
		return exitInterrupted
	case res.Failed():
		return exitFailed
	}
	return exitOK
}

// stateDir resolves where journals go: the flag, IMGBUILD_STATE_DIR, or
// .imgbuild beside the template.
func stateDir(e *env, flagValue, templatePath string) string {
	if flagValue != "" {
		return flagValue
	}
	if d := e.getenv("IMGBUILD_STATE_DIR"); d != "" {
		return d
	}
	return journal.DefaultDir(templatePath)
}

// abandonOnSecondInterrupt returns a channel closed by the second Ctrl-C
// (the first cancels the context), which abandons cleanup. Its goroutine
// ends with that interrupt or when realMain closes e.interrupts on return.
func abandonOnSecondInterrupt(e *env) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		if _, ok := <-e.interrupts; ok {
			e.ui.Error("second interrupt: abandoning cleanup")
			close(ch)
		}
	}()
	return ch
}

// lineInput reads the lines the user types, for -debug's pauses and
// -on-error=ask's questions. Its goroutine starts with the first read and
// ends at the end of the input; a read of a terminal cannot be cancelled,
// so until then it lives as long as the process (a read given up for ctx
// leaves its line to the next one).
type lineInput struct {
	r     io.Reader
	once  sync.Once
	lines chan string
}

func newLineInput(r io.Reader) *lineInput {
	if r == nil {
		r = os.Stdin
	}
	return &lineInput{r: r}
}

// read returns the next line without its newline, io.EOF at the end of
// the input, or ctx's error when ctx is done first.
func (l *lineInput) read(ctx context.Context) (string, error) {
	l.once.Do(func() {
		l.lines = make(chan string)
		go func() {
			defer close(l.lines)
			sc := bufio.NewScanner(l.r)
			for sc.Scan() {
				l.lines <- sc.Text()
			}
		}()
	})
	select {
	case line, ok := <-l.lines:
		if !ok {
			return "", io.EOF
		}
		return line, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

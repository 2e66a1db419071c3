package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/sweep"
)

var cleanupCommand = command{
	synopsis: "Remove what crashed or failed runs left behind in AWS",
	usage:    "cleanup [options] [TEMPLATE_OR_DIR]",
	run:      runCleanupCommand,
}

type cleanupOptions struct {
	stateDir  string
	runID     string
	dryRun    bool
	tags      bool
	olderThan *time.Duration // nil: not given
	regions   stringList
}

func (o *cleanupOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.stateDir, "state-dir", "", "where run journals are kept (default: $IMGBUILD_STATE_DIR, else .imgbuild beside the template, else ./.imgbuild)")
	fs.StringVar(&o.runID, "run", "", "clean up this run only, even if it ended (with --tags: only resources tagged with this run ID)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "list what would be removed and change nothing")
	fs.BoolVar(&o.tags, "tags", false, "find leftovers by their imgbuild:run-id tag instead of the journal (when the journal is lost)")
	fs.Func("older-than", "with --tags (required): only resources created at least this long ago, e.g. 2h (0s: any age)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err == nil && d < 0 {
			err = errors.New("must not be negative")
		}
		o.olderThan = &d
		return err
	})
	fs.Var(&o.regions, "region", "with --tags: a region to search (repeatable; default: $AWS_REGION and every region EC2 lists)")
}

func runCleanupCommand(ctx context.Context, e *env, args []string) int {
	var o cleanupOptions
	fs := newFlagSet(e, "cleanup")
	o.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if err := o.check(fs); err != nil {
		e.ui.Error("%v", err)
		fs.Usage()
		return exitUsage
	}
	o.stateDir = stateDir(e, o.stateDir, fs.Arg(0))
	return runCleanup(ctx, e, o)
}

// check rejects flag combinations that make no sense.
func (o *cleanupOptions) check(fs *flag.FlagSet) error {
	switch {
	case fs.NArg() > 1:
		return fmt.Errorf("expected at most one template path, got %d arguments", fs.NArg())
	case o.tags && o.olderThan == nil:
		return errors.New("--tags needs --older-than (e.g. --older-than 2h) so that running builds are not swept; --older-than 0s sweeps everything")
	case !o.tags && (o.olderThan != nil || len(o.regions) > 0):
		return errors.New("--older-than and --region only apply with --tags")
	}
	return nil
}

// runCleanup removes leftovers, from the journal or by tags, and returns
// the exit code.
func runCleanup(ctx context.Context, e *env, o cleanupOptions) int {
	logger, closeLog := newLogger(e)
	defer closeLog()
	sess, err := awsapi.NewSession(ctx, awsapi.Access{Region: e.getenv("AWS_REGION")}, awsapi.WithLogger(logger))
	if err != nil {
		e.ui.Error("connect to AWS: %v", err)
		return exitCodeFor(err)
	}
	c := &sweep.Cleaner{Session: sess, DryRun: o.dryRun, Report: cleanupReport{e}}
	if o.tags {
		err = c.ByTags(ctx, o.regions, o.runID, *o.olderThan)
	} else {
		err = c.ByJournal(ctx, o.stateDir, o.runID)
	}
	if err != nil {
		e.ui.Error("%v", err)
		var re *sweep.RequestError
		if errors.As(err, &re) {
			return exitUsage
		}
		return exitCodeFor(err)
	}
	return cleanupSummary(ctx, e, o.dryRun, c.Result())
}

// cleanupReport prints what a cleanup does as it happens.
type cleanupReport struct{ e *env }

// Resource prints one resource's outcome.
func (p cleanupReport) Resource(ev sweep.Event) {
	r := ev.Resource
	switch ev.Action {
	case sweep.Removed:
		p.e.ui.Say("%s: %s %s %s", r.Region, removedVerb(r.Type), r.Type, r.ID)
	case sweep.WouldRemove:
		p.e.ui.Say("%s: would remove %s %s", r.Region, r.Type, r.ID)
	case sweep.NotCreated:
		p.e.ui.Say("%s: %s %s was never created", r.Region, r.Type, sweep.NameOf(r))
	case sweep.Kept:
		p.e.ui.Say("%s: kept %s %s: tagged imgbuild:complete by its finished build", r.Region, r.Type, r.ID)
	}
}

// Note prints progress that concerns no one resource.
func (p cleanupReport) Note(n sweep.Note) {
	switch n.Kind {
	case sweep.RunSkipped:
		p.e.ui.Say("run %s is still running as pid %d on %s; skipped", n.Run.RunID, n.Run.Header.PID, n.Run.Header.Hostname)
	case sweep.RunTakenOver:
		p.e.ui.Say("run %s (started %s): %d leftovers", n.Run.RunID, n.Started.Format(time.RFC3339), n.Count)
	case sweep.TagsFound:
		p.e.ui.Say("found %d tagged leftovers older than %s in %d regions", n.Count, n.OlderThan, n.Regions)
	}
}

// Remain prints something that could not be removed.
func (p cleanupReport) Remain(what string, err error) {
	p.e.ui.Error("%s remains: %v", what, err)
}

// cleanupSummary prints the final line and returns the exit code.
func cleanupSummary(ctx context.Context, e *env, dryRun bool, res sweep.Result) int {
	switch {
	case dryRun:
		e.ui.Say("dry run: would remove %d resources; nothing was changed", res.Removed)
	case len(res.Remains) == 0 && res.Removed+res.NotCreated == 0:
		e.ui.Say("nothing to clean up")
	default:
		e.ui.Say("removed %d resources, %d intents never created, %d remain", res.Removed, res.NotCreated, len(res.Remains))
	}
	if ctx.Err() != nil {
		return exitInterrupted
	}
	if len(res.Remains) == 0 {
		return exitOK
	}
	for _, what := range res.Remains {
		e.ui.Error("remains: %s", what)
	}
	e.ui.Hint("fix the causes above and run `imgbuild cleanup` again (it only retries what remains), or remove these by hand")
	return exitFailed
}

// removedVerb is what removing a resource of type t is called.
func removedVerb(t journal.Type) string {
	switch t {
	case journal.Instance:
		return "terminated"
	case journal.Image:
		return "deregistered"
	}
	return "deleted"
}

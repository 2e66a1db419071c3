package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/sweep"
	"github.com/imgbuild/imgbuild/internal/tags"
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
	c := &cleaner{e: e, sess: sess, dryRun: o.dryRun}
	if o.tags {
		err = c.byTags(ctx, o)
	} else {
		err = c.byJournal(ctx, o)
	}
	if err != nil {
		e.ui.Error("%v", err)
		if errors.Is(err, errUsage) {
			return exitUsage
		}
		return exitCodeFor(err)
	}
	return c.summary(ctx)
}

var errUsage = errors.New("usage")

// byJournal cleans the orphaned runs of the state directory, or the one
// named by --run.
func (c *cleaner) byJournal(ctx context.Context, o cleanupOptions) error {
	runs, err := journal.List(o.stateDir)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", o.stateDir, err)
	}
	if o.runID != "" {
		i := slices.IndexFunc(runs, func(r journal.RunInfo) bool { return r.RunID == o.runID })
		if i < 0 {
			return fmt.Errorf("no run %s in %s: %w", o.runID, o.stateDir, errUsage)
		}
		return c.cleanRun(ctx, o.stateDir, runs[i])
	}
	for _, info := range runs {
		switch {
		case info.Err != nil:
			c.remain(fmt.Sprintf("journal %s", info.Path), info.Err)
		case info.WriterAlive:
			c.e.ui.Say("run %s is still running as pid %d on %s; skipped", info.RunID, info.Header.PID, info.Header.Hostname)
		case info.Orphaned():
			if err := c.cleanRun(ctx, o.stateDir, info); err != nil {
				return err
			}
		default:
			c.checkEnded(info)
		}
	}
	return nil
}

// checkEnded reports an ended run that still lists leftovers, which only
// --run cleans up.
func (c *cleaner) checkEnded(info journal.RunInfo) {
	run, err := journal.Read(info.Path)
	if err != nil {
		c.remain("journal "+info.Path, err)
		return
	}
	if n := len(run.Leftovers()); n > 0 {
		c.remain(fmt.Sprintf("run %s", info.RunID),
			fmt.Errorf("ended (%s) with %d leftovers; run `imgbuild cleanup --run %s` to remove them", info.Outcome, n, info.RunID))
	}
}

// cleanRun takes a run over, removes its leftovers and ends it when
// nothing remains. A dry run only reads it.
func (c *cleaner) cleanRun(ctx context.Context, dir string, info journal.RunInfo) error {
	if c.dryRun {
		run, err := journal.Read(info.Path)
		if err != nil {
			return err
		}
		c.sweep(ctx, run.Leftovers(), nil)
		return nil
	}
	w, err := journal.Resume(dir, info.RunID)
	if err != nil {
		c.remain("run "+info.RunID, err)
		return nil
	}
	defer w.Close()
	run, err := journal.Read(info.Path)
	if err != nil {
		return err
	}
	c.e.ui.Say("run %s (started %s): %d leftovers", info.RunID, run.Header.Started.Format(time.RFC3339), len(run.Leftovers()))
	if !c.sweep(ctx, run.Leftovers(), w) {
		return nil
	}
	c.markComplete(ctx, run)
	outcome := journal.OutcomeFailed
	if info.Ended && info.Outcome != "" {
		outcome = info.Outcome
	}
	if err := w.End(outcome); err != nil {
		c.remain("run "+info.RunID, fmt.Errorf("everything removed, but ending the journal failed: %w", err))
	}
	return nil
}

// byTags sweeps resources found by their run tag.
func (c *cleaner) byTags(ctx context.Context, o cleanupOptions) error {
	regions := []string(o.regions)
	if len(regions) == 0 {
		if c.sess.Region() == "" {
			return fmt.Errorf("no region: set AWS_REGION or pass --region: %w", errUsage)
		}
		var err error
		if regions, err = sweep.Regions(ctx, c.sess); err != nil {
			return err
		}
	}
	rs, err := sweep.FindByTags(ctx, c.sess, regions, o.runID, *o.olderThan, time.Now())
	if err != nil {
		return err
	}
	c.e.ui.Say("found %d tagged leftovers older than %s in %d regions", len(rs), *o.olderThan, len(regions))
	c.sweep(ctx, rs, nil)
	return nil
}

// cleaner runs one cleanup and counts what it did.
type cleaner struct {
	e      *env
	sess   *awsapi.Session
	dryRun bool

	removed, notCreated int
	remains             []string // what remains, each with its region
}

// sweep removes rs in order, recording in rec when it is not nil, and
// reports whether nothing remains of them.
func (c *cleaner) sweep(ctx context.Context, rs []journal.Resource, rec *journal.Writer) bool {
	o := sweep.Options{DryRun: c.dryRun, Report: c.report}
	if rec != nil {
		o.Recorder = rec
	}
	ok := true
	for _, ev := range sweep.Sweep(ctx, c.sess, rs, o) {
		ok = ok && ev.Action != sweep.Failed
	}
	return ok
}

// report prints one event as it happens; Sweep serialises the calls.
func (c *cleaner) report(ev sweep.Event) {
	r := ev.Resource
	switch ev.Action {
	case sweep.Removed:
		c.removed++
		c.e.ui.Say("%s: %s %s %s", r.Region, removedVerb(r.Type), r.Type, r.ID)
	case sweep.WouldRemove:
		c.removed++
		c.e.ui.Say("%s: would remove %s %s", r.Region, r.Type, r.ID)
	case sweep.NotCreated:
		c.notCreated++
		c.e.ui.Say("%s: %s %s was never created", r.Region, r.Type, nameOf(r))
	case sweep.Kept:
		c.e.ui.Say("%s: kept %s %s: tagged imgbuild:complete by its finished build", r.Region, r.Type, r.ID)
	case sweep.Failed:
		c.remain(fmt.Sprintf("%s %s in %s", r.Type, nameOf(r), r.Region), ev.Err)
	}
}

// remain reports something that could not be removed.
func (c *cleaner) remain(what string, err error) {
	c.remains = append(c.remains, what)
	c.e.ui.Error("%s remains: %v", what, err)
}

// summary prints the final line and returns the exit code.
func (c *cleaner) summary(ctx context.Context) int {
	switch {
	case c.dryRun:
		c.e.ui.Say("dry run: would remove %d resources; nothing was changed", c.removed)
	case len(c.remains) == 0 && c.removed+c.notCreated == 0:
		c.e.ui.Say("nothing to clean up")
	default:
		c.e.ui.Say("removed %d resources, %d intents never created, %d remain", c.removed, c.notCreated, len(c.remains))
	}
	if ctx.Err() != nil {
		return exitInterrupted
	}
	if len(c.remains) == 0 {
		return exitOK
	}
	for _, what := range c.remains {
		c.e.ui.Error("remains: %s", what)
	}
	c.e.ui.Hint("fix the causes above and run `imgbuild cleanup` again (it only retries what remains), or remove these by hand")
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

// nameOf names a resource by its ID, else its name or client token.
func nameOf(r journal.Resource) string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Name != "":
		return fmt.Sprintf("%q", r.Name)
	case r.ClientToken != "":
		return "with client token " + r.ClientToken
	}
	return "(no id)"
}

// markComplete tags the images and snapshots the run journaled as kept
// with imgbuild:complete: a build killed between committing its images in
// the journal and tagging them would otherwise leave output that a later
// "cleanup --tags" (which only sees tags) would take for leftovers.
func (c *cleaner) markComplete(ctx context.Context, run *journal.Run) {
	byRegion := map[string][]string{}
	for _, r := range run.Resources {
		if r.State == journal.StateKept && (r.Type == journal.Image || r.Type == journal.Snapshot) && r.ID != "" {
			byRegion[r.Region] = append(byRegion[r.Region], r.ID)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	for region, ids := range byRegion {
		_, err := c.sess.EC2(region).CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids,
			Tags: []types.Tag{{Key: aws.String(tags.Complete), Value: aws.String(now)}}})
		if err != nil {
			c.remain(fmt.Sprintf("the %s tag on the kept images in %s", tags.Complete, region), err)
		}
	}
}

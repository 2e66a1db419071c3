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
	usage:    "cleanup [options] [TEMPLATE]",
	run:      runCleanupCommand,
}

type cleanupOptions struct {
	stateDir  string
	runID     string
	dryRun    bool
	tags      bool
	olderThan *time.Duration // nil: not given
	regions   stringList
	tf        templateFlags
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
	o.tf.register(fs)
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
	return runCleanup(ctx, e, o, fs.Arg(0))
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
	case o.tags && fs.NArg() > 0:
		return errors.New("--tags searches with the environment's credentials and reads no template; drop the template path")
	case fs.NArg() == 0 && len(o.tf.vars)+len(o.tf.varFiles) > 0:
		return errors.New("-var and -var-file only apply with a template path")
	}
	return nil
}

// runCleanup removes leftovers, from the journal or by tags, and returns
// the exit code. With a template path, each build's resources are removed
// with that build's access in the template.
func runCleanup(ctx context.Context, e *env, o cleanupOptions, template string) int {
	logger, closeLog := newLogger(e)
	defer closeLog()
	access := &sweep.Sessions{Env: awsapi.Access{Region: e.getenv("AWS_REGION")}, Options: []awsapi.Option{awsapi.WithLogger(logger)}}
	if template != "" {
		access.TemplatePath = template
		access.Template = func(ctx context.Context) (map[string]awsapi.Access, error) {
			return templateAccess(ctx, e, template, o.tf)
		}
	}
	c := &sweep.Cleaner{Access: access, DryRun: o.dryRun, Report: cleanupReport{e}}
	var err error
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

// accessor is what the Config of a source that reaches AWS offers.
type accessor interface{ Access() awsapi.Access }

// templateAccess loads the template at path and returns the access of each
// of its builds that reaches AWS, by full build name.
func templateAccess(ctx context.Context, e *env, path string, tf templateFlags) (map[string]awsapi.Access, error) {
	ev, err := newDataEvaluator(ctx, e)
	if err != nil {
		return nil, err
	}
	t, _ := loadTemplate(e, path, tf, templateOptionsWith(ev))
	if t == nil {
		return nil, errors.New("the template has errors (shown above)")
	}
	out := map[string]awsapi.Access{}
	for _, b := range t.Builds {
		for _, use := range b.Sources {
			if a, ok := use.Config.(accessor); ok {
				out[use.FullName(b)] = a.Access()
			}
		}
	}
	return out, nil
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
	case sweep.FinishedMarked:
		verb := "tagged"
		if n.DryRun {
			verb = "would tag"
		}
		p.e.ui.Say("%s %d images and snapshots of finished builds imgbuild:complete: their build was stopped while tagging them", verb, n.Count)
	case sweep.AccessUnchecked:
		p.e.ui.Error("warning: run %s%s: account not checked: %s", n.Run.RunID, buildSuffix(n.Build), n.Detail)
	}
}

// Remain prints something that could not be removed; for a refused
// account, what to do about it.
func (p cleanupReport) Remain(what string, err error) {
	p.e.ui.Error("%s remains: %v", what, err)
	var ae *sweep.AccessError
	if errors.As(err, &ae) {
		p.e.ui.Hint("%s", accessHint(ae))
	}
}

// buildSuffix is " build NAME", or nothing for resources without a build.
func buildSuffix(build string) string {
	if build == "" {
		return ""
	}
	return " build " + build
}

// accessHint says how to clean up a build refused for its account.
func accessHint(ae *sweep.AccessError) string {
	rec := ae.Recorded
	var with string
	switch {
	case rec.Profile != "":
		with = fmt.Sprintf(" (the build used profile %q: AWS_PROFILE=%s)", rec.Profile, rec.Profile)
	case rec.RoleARN != "":
		with = fmt.Sprintf(" (the build assumed %s)", rec.RoleARN)
	}
	tmpl := ae.Template
	if tmpl == "" {
		tmpl = "TEMPLATE"
	}
	account := "the run's account"
	if rec.Account != "" {
		account = "account " + rec.Account
	}
	return fmt.Sprintf("run the cleanup with credentials for %s%s, or give the run's template so that each build's access "+
		"(profile, assume_role) is rebuilt from it: `imgbuild cleanup --run %s %s`", account, with, ae.RunID, tmpl)
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

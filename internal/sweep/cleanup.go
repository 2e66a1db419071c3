package sweep

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// Cleaner runs one `imgbuild cleanup`: it removes what runs left behind,
// found in their journals (ByJournal) or by their tags (ByTags), reports
// what it does as it happens, and counts it (Result). The caller renders
// the reports.
type Cleaner struct {
	// Access opens the access that cleans up each build's resources
	// (ByJournal, which checks it against the account the build recorded)
	// and the one a tag sweep searches with (ByTags).
	Access Connector
	DryRun bool // list what would be removed, change nothing
	Report Reporter

	res Result
}

// Reporter receives what a Cleaner does, as it happens; calls are
// serialised.
type Reporter interface {
	// Resource reports what happened to one resource.
	Resource(Event)
	// Note reports progress that concerns no one resource.
	Note(Note)
	// Remain reports something that could not be removed, and why.
	Remain(what string, err error)
}

// NoteKind says what a Note reports.
type NoteKind int

// The kinds of note.
const (
	// RunSkipped: Run is still being written by a live process.
	RunSkipped NoteKind = iota
	// RunTakenOver: Run is being cleaned up; Started and Count (its
	// leftovers) are set.
	RunTakenOver
	// TagsFound: Count tagged leftovers older than OlderThan were found
	// in Regions regions.
	TagsFound
	// AccessUnchecked: the resources of Build in Run are cleaned up
	// without checking the account; Detail says why.
	AccessUnchecked
	// FinishedMarked: a tag sweep tagged imgbuild:complete (a dry run:
	// would tag) Count images and snapshots of finished builds that were
	// stopped while tagging them.
	FinishedMarked
)

// Note is progress of a cleanup that concerns no one resource.
type Note struct {
	Kind      NoteKind
	Run       journal.RunInfo
	Started   time.Time
	Count     int
	Regions   int
	OlderThan time.Duration
	// Build and Detail are set for AccessUnchecked: the build ("" for
	// resources recorded without one) and why its account is unchecked.
	Build  string
	Detail string
	// DryRun is set for FinishedMarked in a dry run.
	DryRun bool
}

// Result counts what a cleanup did.
type Result struct {
	Removed    int      // removed, or that a dry run would remove
	NotCreated int      // journal intents found never created
	Remains    []string // what remains, each with its region
}

// RequestError is a cleanup request that cannot be carried out as given:
// an unknown run, no region to search.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

// Result returns what the cleanup did so far.
func (c *Cleaner) Result() Result { return c.res }

// ByJournal cleans the orphaned runs of the state directory dir, or only
// the run runID (even if it ended) when runID is not empty. Ended runs
// that still list leftovers are reported as remaining.
func (c *Cleaner) ByJournal(ctx context.Context, dir, runID string) error {
	runs, err := journal.List(dir)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	if runID != "" {
		i := slices.IndexFunc(runs, func(r journal.RunInfo) bool { return r.RunID == runID })
		if i < 0 {
			return &RequestError{Msg: fmt.Sprintf("no run %s in %s", runID, dir)}
		}
		return c.cleanRun(ctx, dir, runs[i])
	}
	for _, info := range runs {
		switch {
		case info.Err != nil:
			c.remain(fmt.Sprintf("journal %s", info.Path), info.Err)
		case info.WriterAlive:
			c.Report.Note(Note{Kind: RunSkipped, Run: info})
		case info.Orphaned():
			if err := c.cleanRun(ctx, dir, info); err != nil {
				return err
			}
		default:
			c.checkEnded(info)
		}
	}
	return nil
}

// checkEnded reports an ended run that still lists leftovers, which only
// a cleanup of that run removes.
func (c *Cleaner) checkEnded(info journal.RunInfo) {
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

// ByTags sweeps the resources found by their run tag (only those of run
// runID when it is not empty) older than olderThan in regions; with no
// regions, in the session's region and every region EC2 lists.
func (c *Cleaner) ByTags(ctx context.Context, regions []string, runID string, olderThan time.Duration) error {
	a, err := c.Access.Connect(ctx, journal.Access{})
	if err != nil {
		return err
	}
	sess := a.Session
	if len(regions) == 0 {
		if sess.Region() == "" {
			return &RequestError{Msg: "no region: set AWS_REGION or pass --region"}
		}
		if regions, err = Regions(ctx, sess); err != nil {
			return err
		}
	}
	rs, unmarked, err := FindByTags(ctx, sess, regions, runID, olderThan, time.Now())
	if err != nil {
		return err
	}
	c.Report.Note(Note{Kind: TagsFound, Count: len(rs), Regions: len(regions), OlderThan: olderThan})
	c.markFinished(ctx, sess, unmarked)
	c.sweep(ctx, sess, rs, nil)
	return nil
}

// markFinished completes the tagging of finished builds' output that a
// crash interrupted, so that a later sweep of fewer regions (where no
// tagged image of the build is seen) still keeps it.
func (c *Cleaner) markFinished(ctx context.Context, sess *awsapi.Session, rs []journal.Resource) {
	if len(rs) == 0 {
		return
	}
	if !c.DryRun {
		if err := MarkComplete(ctx, sess, rs); err != nil {
			c.remain(fmt.Sprintf("the %s tag on %d images and snapshots of finished builds", tags.Complete, len(rs)), err)
			return
		}
	}
	c.Report.Note(Note{Kind: FinishedMarked, Count: len(rs), DryRun: c.DryRun})
}

// sweep removes rs in order with sess, recording in rec when it is not
// nil, and reports whether nothing remains of them.
func (c *Cleaner) sweep(ctx context.Context, sess *awsapi.Session, rs []journal.Resource, rec *journal.Writer) bool {
	o := Options{DryRun: c.DryRun, Report: c.report}
	if rec != nil {
		o.Recorder = rec
	}
	ok := true
	for _, ev := range Sweep(ctx, sess, rs, o) {
		ok = ok && ev.Action != Failed
	}
	return ok
}

// report counts one event and passes it on.
func (c *Cleaner) report(ev Event) {
	r := ev.Resource
	switch ev.Action {
	case Removed, WouldRemove:
		c.res.Removed++
	case NotCreated:
		c.res.NotCreated++
	case Failed:
		c.remain(fmt.Sprintf("%s %s in %s", r.Type, NameOf(r), r.Region), ev.Err)
		return
	}
	c.Report.Resource(ev)
}

// remain counts and reports something that could not be removed.
func (c *Cleaner) remain(what string, err error) {
	c.res.Remains = append(c.res.Remains, what)
	c.Report.Remain(what, err)
}

// NameOf names a resource by its ID, else its name or client token.
func NameOf(r journal.Resource) string {
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

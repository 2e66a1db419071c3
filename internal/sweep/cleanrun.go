package sweep

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// buildWork is what cleaning up a run does for one of its builds: remove
// its leftovers and finish the commit of its kept images, with the access
// that matches the account the build used.
type buildWork struct {
	build     string
	leftovers []journal.Resource // in cleanup order
	kept      []journal.Resource // its kept images and snapshots, for finish
	access    *Access            // nil: refused or not connected (reported)
}

// cleanRun takes a run over, removes its leftovers build by build, each
// with the access Connect gives for it, finishes the commit of its kept
// images and ends it when nothing remains. A build whose recorded account
// is not the access's is refused and left untouched; when every build is,
// the run is not even taken over. A dry run only reads the run.
func (c *Cleaner) cleanRun(ctx context.Context, dir string, info journal.RunInfo) error {
	run, err := journal.Read(info.Path)
	if err != nil {
		return err
	}
	works := splitByBuild(run)
	verdicts := c.connectAll(ctx, run, works)
	if c.DryRun {
		c.reportVerdicts(info, verdicts)
		for _, wk := range connected(works) {
			c.sweep(ctx, wk.access.Session, wk.leftovers, nil)
		}
		return nil
	}
	if len(works) > 0 && len(connected(works)) == 0 {
		c.reportVerdicts(info, verdicts) // all refused: not even taken over
		return nil
	}
	w, err := journal.Resume(dir, info.RunID)
	if err != nil {
		c.remain("run "+info.RunID, err)
		return nil
	}
	defer w.Close()
	if run, err = journal.Read(info.Path); err != nil {
		return err
	}
	c.Report.Note(Note{Kind: RunTakenOver, Run: info, Started: run.Header.Started, Count: len(run.Leftovers())})
	c.reportVerdicts(info, verdicts)
	if !c.sweepRun(ctx, run, works, w) {
		return nil
	}
	outcome := journal.OutcomeFailed
	if info.Ended && info.Outcome != "" {
		outcome = info.Outcome
	}
	if err := w.End(outcome); err != nil {
		c.remain("run "+info.RunID, fmt.Errorf("everything removed, but ending the journal failed: %w", err))
	}
	return nil
}

// sweepRun cleans up the builds of run as read after the take-over, with
// the accesses connected before it (works), and reports whether nothing
// remains. A build that appeared in between (it cannot: the run's writer
// was gone) would be left for the next cleanup.
func (c *Cleaner) sweepRun(ctx context.Context, run *journal.Run, before []*buildWork, w *journal.Writer) bool {
	access := map[string]*Access{}
	for _, wk := range before {
		access[wk.build] = wk.access
	}
	ok := true
	for _, wk := range splitByBuild(run) {
		a := access[wk.build]
		if a == nil {
			ok = false
			continue
		}
		if !c.sweep(ctx, a.Session, wk.leftovers, w) {
			ok = false
			continue
		}
		c.finish(ctx, a.Session, wk.kept)
	}
	return ok
}

// splitByBuild returns the work of each build of run that has leftovers
// or kept images, builds with leftovers first, each in the order its first
// resource appears.
func splitByBuild(run *journal.Run) []*buildWork {
	var works []*buildWork
	byBuild := map[string]*buildWork{}
	get := func(build string) *buildWork {
		wk := byBuild[build]
		if wk == nil {
			wk = &buildWork{build: build}
			byBuild[build] = wk
			works = append(works, wk)
		}
		return wk
	}
	for _, r := range run.Leftovers() {
		wk := get(r.Build)
		wk.leftovers = append(wk.leftovers, r)
	}
	for _, r := range run.Resources {
		if r.State == journal.StateKept && r.ID != "" && (r.Type == journal.Image || r.Type == journal.Snapshot) {
			wk := get(r.Build)
			wk.kept = append(wk.kept, r)
		}
	}
	return works
}

// verdict is what connecting a build's access concluded, reported once the
// run is taken over (or refused).
type verdict struct {
	build   string
	count   int // the build's leftovers
	warning string
	err     error
}

// connectAll connects the access of each build's work and checks it
// against the account the build recorded, setting access on the works it
// may clean up.
func (c *Cleaner) connectAll(ctx context.Context, run *journal.Run, works []*buildWork) []verdict {
	var vs []verdict
	for _, wk := range works {
		v := verdict{build: wk.build, count: len(wk.leftovers)}
		rec, _ := run.AccessOf(wk.build)
		rec.Build = wk.build
		a, err := c.Access.Connect(ctx, rec)
		if err == nil {
			v.warning, err = checkAccess(run, wk.build, a)
		}
		if v.err = err; err == nil {
			wk.access = &a
		}
		vs = append(vs, v)
	}
	return vs
}

// reportVerdicts reports the builds cleaned up unchecked and those refused
// or not connected, which remain.
func (c *Cleaner) reportVerdicts(info journal.RunInfo, vs []verdict) {
	for _, v := range vs {
		switch {
		case v.err != nil:
			c.remain(buildWhat(info.RunID, v.build, v.count), v.err)
		case v.warning != "":
			c.Report.Note(Note{Kind: AccessUnchecked, Run: info, Build: v.build, Detail: v.warning})
		}
	}
}

// buildWhat names what remains of a build that could not be cleaned up.
func buildWhat(runID, build string, n int) string {
	if build == "" {
		return fmt.Sprintf("%d resources of run %s", n, runID)
	}
	return fmt.Sprintf("%d resources of build %s in run %s", n, build, runID)
}

// finish tags the build's kept images and snapshots complete (Finish), one
// region at a time, reporting each region left untagged: a build killed
// between committing its images in the journal and tagging them would
// otherwise leave output that a later tag sweep would take for leftovers.
func (c *Cleaner) finish(ctx context.Context, sess *awsapi.Session, rs []journal.Resource) {
	byRegion := map[string][]journal.Resource{}
	for _, r := range rs {
		byRegion[r.Region] = append(byRegion[r.Region], r)
	}
	for region, rs := range byRegion {
		if err := Finish(ctx, sess, rs); err != nil {
			c.remain(fmt.Sprintf("the %s tag on the kept images in %s", tags.Complete, region), err)
		}
	}
}

// connected returns the works that have an access.
func connected(works []*buildWork) []*buildWork {
	var out []*buildWork
	for _, wk := range works {
		if wk.access != nil {
			out = append(out, wk)
		}
	}
	return out
}

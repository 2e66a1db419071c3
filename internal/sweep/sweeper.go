package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// Recorder journals what a sweep did; *journal.Writer is one.
type Recorder interface {
	Created(ref journal.Ref, id string, extra ...journal.Resource) error
	NotCreated(ref journal.Ref) error
	Deleted(typ journal.Type, region, id string) error
	Kept(typ journal.Type, region, id string) error
}

// Action says what a sweep did with one resource.
type Action string

// The actions of a sweep.
const (
	// Removed: the resource was deleted, or found already gone.
	Removed Action = "removed"
	// NotCreated: an intent without an ID whose create call created
	// nothing.
	NotCreated Action = "not-created"
	// Kept: the resource is tagged imgbuild:complete, a finished build's
	// output; it is journaled as kept and left alone.
	Kept Action = "kept"
	// WouldRemove: a dry run found the resource.
	WouldRemove Action = "would-remove"
	// Failed: the resource remains; Event.Err says why.
	Failed Action = "failed"
)

// Event is what happened to one resource.
type Event struct {
	Resource journal.Resource
	Action   Action
	Err      error
}

// Options configure Sweep.
type Options struct {
	// DryRun resolves intents but deletes and records nothing.
	DryRun bool
	// Recorder, when set, journals each outcome.
	Recorder Recorder
	// Report, when set, is called with each event as it happens, one call
	// at a time.
	Report func(Event)
}

// Sweep removes rs, which must be in deletion order (journal.Run.Leftovers
// or Order). Regions are swept in parallel, the resources of one region
// one at a time in order. When an instance cannot be terminated, the
// security groups of its region are not tried: they would only fail with
// DependencyViolation. Sweep returns one event per resource.
func Sweep(ctx context.Context, sess *awsapi.Session, rs []journal.Resource, o Options) []Event {
	var (
		mu     sync.Mutex
		events []Event
	)
	emit := func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
		if o.Report != nil {
			o.Report(ev)
		}
	}
	var g errgroup.Group
	g.SetLimit(regionLimit)
	for _, group := range byRegion(rs) {
		g.Go(func() error {
			var b blockers
			for _, r := range group {
				if err := b.blocking(r); err != nil {
					emit(Event{r, Failed, err})
					continue
				}
				ev := sweepOne(ctx, sess, r, o)
				b.note(ev)
				emit(ev)
			}
			return nil
		})
	}
	_ = g.Wait() // the region goroutines report failures as events
	return events
}

// blockers remembers, within one region, the failures that make later
// deletions pointless: a security group cannot go while an instance that
// may use it remains, nor a snapshot while its image remains.
type blockers struct {
	instance string
	images   map[string]bool
}

func (b *blockers) note(ev Event) {
	if ev.Action != Failed {
		return
	}
	switch ev.Resource.Type {
	case journal.Instance:
		b.instance = cmp.Or(ev.Resource.ID, "an instance")
	case journal.Image:
		if b.images == nil {
			b.images = map[string]bool{}
		}
		b.images[ev.Resource.ID] = true
	}
}

// blocking returns why r is not tried, or nil.
func (b *blockers) blocking(r journal.Resource) error {
	switch {
	case r.Type == journal.SecurityGroup && b.instance != "":
		return fmt.Errorf("security group %s in %s: not tried while instance %s remains", r.ID, r.Region, b.instance)
	case r.Type == journal.Snapshot && r.Parent != "" && b.images[r.Parent]:
		return fmt.Errorf("snapshot %s in %s: not tried while its image %s remains", r.ID, r.Region, r.Parent)
	}
	return nil
}

// byRegion splits rs by region, keeping their order within each region.
func byRegion(rs []journal.Resource) [][]journal.Resource {
	index := map[string]int{}
	var groups [][]journal.Resource
	for _, r := range rs {
		i, ok := index[r.Region]
		if !ok {
			i = len(groups)
			index[r.Region] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return groups
}

// sweepOne resolves, deletes and records one resource.
func sweepOne(ctx context.Context, sess *awsapi.Session, r journal.Resource, o Options) Event {
	rec := o.Recorder
	if rec == nil || o.DryRun {
		rec = nopRecorder{}
	}
	intent := r.ID == ""
	if intent {
		found, err := Resolve(ctx, sess, r)
		if errors.Is(err, ErrNotFound) {
			return recorded(Event{r, NotCreated, nil}, rec.NotCreated(r.Ref))
		}
		if err != nil {
			return Event{r, Failed, err}
		}
		r = found
		if err := rec.Created(r.Ref, r.ID); err != nil {
			return Event{r, Failed, fmt.Errorf("found %s %s in %s but could not journal it: %w", r.Type, r.ID, r.Region, err)}
		}
	}
	if o.DryRun {
		return Event{r, WouldRemove, nil}
	}
	err := Delete(ctx, sess, r)
	switch {
	case errors.Is(err, ErrComplete):
		return recorded(Event{r, Kept, nil}, rec.Kept(r.Type, r.Region, r.ID))
	case err != nil:
		return Event{r, Failed, err}
	}
	return recorded(Event{r, Removed, nil}, rec.Deleted(r.Type, r.Region, r.ID))
}

// recorded turns a failure to journal an outcome into a failed event: the
// journal must not claim less than what happened.
func recorded(ev Event, err error) Event {
	if err != nil {
		ev.Err = fmt.Errorf("%s %s in %s: %s, but the journal could not record it: %w",
			ev.Resource.Type, ev.Resource.ID, ev.Resource.Region, ev.Action, err)
		ev.Action = Failed
	}
	return ev
}

// nopRecorder records nothing: for tag sweeps and dry runs.
type nopRecorder struct{}

func (nopRecorder) Created(journal.Ref, string, ...journal.Resource) error { return nil }
func (nopRecorder) NotCreated(journal.Ref) error                           { return nil }
func (nopRecorder) Deleted(journal.Type, string, string) error             { return nil }
func (nopRecorder) Kept(journal.Type, string, string) error                { return nil }

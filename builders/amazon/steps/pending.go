package steps

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/sweep"
)

// pendingCreate is a journaled create call whose outcome is unknown: it
// failed without an AWS error code (the context was cancelled while the
// answer was on its way, a transport error), so the resource may exist.
// The node that made the call keeps it, and its Cleanup, which runs on a
// live context, resolves it with sweep.Resolve before deleting what it
// finds. Run does not look such a resource up itself: its context is
// usually the cancelled one.
type pendingCreate struct {
	ref    journal.Ref
	intent journal.Resource
}

// failedCreate sorts out a create call that returned err and returns the
// ID of the resource when the call did create it, or the pending create
// Cleanup must resolve:
//
//   - a duplicate (an SDK retry of a call that had taken effect, or a name
//     someone else holds) is resolved at once, ctx being live: the build's
//     own resource is adopted, anything else journaled as not created;
//   - any other AWS error code is a refusal: nothing was created;
//   - no error code (or a 5xx server error): the outcome is unknown, the
//     create is pending.
func (b *build) failedCreate(ctx context.Context, ref journal.Ref, intent journal.Resource, err error) (string, *pendingCreate) {
	p := &pendingCreate{ref: ref, intent: intent}
	switch {
	case awsapi.IsDuplicate(err):
		if id, rerr := p.resolve(ctx, b); rerr == nil {
			return id, nil
		}
		return "", p // the lookup failed: cleanup tries again
	case awsapi.ErrorCode(err) != "" && !serverError(err):
		_ = b.env.Journal.NotCreated(ref) // refused: best effort, cleanup resolves the intent otherwise
		return "", nil
	}
	return "", p
}

// resolveGrace is how long the resource of a pending create may stay
// invisible before cleanup concludes that nothing was created: EC2 is
// eventually consistent, and the request whose answer was lost may still
// be carried out after the client gave up on it.
const resolveGrace = 10 * time.Second

// resolve looks the pending create's resource up (sweep.Resolve, again
// within resolveGrace while it is not found) and journals the outcome:
// Created with its ID, or NotCreated. It returns the ID, "" when nothing
// was created; a nil p resolves to "".
func (p *pendingCreate) resolve(ctx context.Context, b *build) (string, error) {
	if p == nil {
		return "", nil
	}
	r, err := p.lookup(ctx, b, resolveGrace)
	switch {
	case errors.Is(err, sweep.ErrNotFound):
		return "", b.env.Journal.NotCreated(p.ref)
	case err != nil:
		return "", fmt.Errorf("%w; it may be left behind", err)
	}
	return r.ID, b.env.Journal.Created(p.ref, r.ID)
}

// lookup runs sweep.Resolve until it finds the resource, fails otherwise
// than with sweep.ErrNotFound, or grace has passed.
func (p *pendingCreate) lookup(ctx context.Context, b *build, grace time.Duration) (journal.Resource, error) {
	deadline := time.Now().Add(grace)
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		r, err := sweep.Resolve(ctx, b.sess, p.intent)
		if !errors.Is(err, sweep.ErrNotFound) || time.Now().Add(delay).After(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("%s, and no time left to look again: %w", err, ctx.Err()) // not ErrNotFound: unknown
		case <-time.After(delay):
		}
	}
}

// remove deletes a resource the build created (sweep.Delete, with the
// build's wait timeouts) and journals the deletion. The resource carries
// the run tags, by which sweep.Delete confirms that a resource answered
// NotFound by ID is really gone, not just too young to be seen. Errors
// name the resource, its ID and region.
func (b *build) remove(ctx context.Context, r journal.Resource) error {
	if r.Tags == nil {
		r.Tags = b.env.RunTags()
	}
	if err := sweep.DeleteWaiting(ctx, b.sess, r, b.timeouts); err != nil {
		return fmt.Errorf("%w; it may be left behind", err)
	}
	return b.env.Journal.Deleted(r.Type, r.Region, r.ID)
}

// removeCreated removes what a create node made: r, whose ID is the one
// the create call returned, or the one p resolves to when its outcome is
// unknown. Without either, nothing was created and nothing is done; it
// reports whether something was removed.
func (b *build) removeCreated(ctx context.Context, p *pendingCreate, r journal.Resource) (bool, error) {
	if p != nil {
		id, err := p.resolve(ctx, b)
		if err != nil {
			return false, err
		}
		r.ID = id
	}
	if r.ID == "" {
		return false, nil
	}
	return true, b.remove(ctx, r)
}

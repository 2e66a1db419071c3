package dag

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-multierror"
)

// ErrAbandoned is the cause of cancellation when Options.Abandon fires. It
// is the CleanupErr of a node whose cleanup was not run because of it, is
// wrapped by the CleanupErr of a node whose cleanup it interrupted, and is
// Result.Interrupted if it fired while nodes were still running.
var ErrAbandoned = errors.New("abandoned")

// ErrCleanupTimeout is wrapped by the CleanupErr of a node whose cleanup did
// not finish within Options.CleanupTimeout.
var ErrCleanupTimeout = errors.New("timed out")

// Status is what happened to a node's Run during a walk.
type Status int

const (
	// NotRun is the zero Status: the node was never considered, because
	// the graph was invalid.
	NotRun Status = iota
	// Succeeded means Run returned nil.
	Succeeded
	// Failed means Run returned an error (or panicked) while the walk was
	// not cancelled.
	Failed
	// Skipped means a dependency, direct or indirect, failed; the node was
	// not started and Outcome.SkippedBecause names the failed ancestor.
	Skipped
	// Cancelled means the walk was cancelled (by the caller's context,
	// Options.Abandon, or Options.FailFast) before the node finished: it
	// was either never started or its Run returned an error after the
	// cancellation.
	Cancelled
)

var statusNames = [...]string{
	NotRun:    "not run",
	Succeeded: "succeeded",
	Failed:    "failed",
	Skipped:   "skipped",
	Cancelled: "cancelled",
}

// String returns the lowercase name of s, such as "succeeded".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Outcome is what happened to one node during a walk.
type Outcome struct {
	ID    string
	Group string
	// Status is what happened to Run.
	Status Status
	// Err is the error Run returned (a *PanicError if it panicked). It is
	// nil for Succeeded and Skipped nodes and for nodes never started.
	Err error
	// SkippedBecause is the id of the failed ancestor of a Skipped node.
	SkippedBecause string
	// Started and Finished bracket Run; both are zero if Run never started.
	Started, Finished time.Time
	// CleanupStart and CleanupEnd bracket Cleanup; both are zero if
	// Cleanup never ran.
	CleanupStart, CleanupEnd time.Time
	// Cleaned reports whether Cleanup ran and returned nil. It is false for
	// nodes that are not Cleaners and for nodes that never started.
	Cleaned bool
	// CleanupErr is the error Cleanup returned (a *PanicError if it
	// panicked), wrapped with ErrCleanupTimeout or ErrAbandoned when that
	// is why it returned; it is ErrAbandoned itself when the cleanup was
	// never run because Options.Abandon fired first.
	CleanupErr error
}

// Result is the outcome of a walk.
type Result struct {
	// Outcomes has one entry per node, in Graph.Order.
	Outcomes []Outcome
	// GraphErr is the error of Graph.Validate when the graph could not be
	// walked; every outcome is then NotRun.
	GraphErr error
	// Interrupted is the cause of the cancellation when the walk was
	// stopped from outside (its context was cancelled or Options.Abandon
	// fired) before every node finished; nil otherwise, including when
	// FailFast stopped the walk.
	Interrupted error
	// CleanupAbandoned reports that Options.Abandon fired before every
	// cleanup had finished.
	CleanupAbandoned bool
	// Leftover lists, in reverse start order, the ids of started Cleaner
	// nodes whose cleanup did not run, did not finish or failed: what the
	// run may have left behind.
	Leftover []string
}

// Get returns the outcome of node id and whether the result has one.
func (r *Result) Get(id string) (Outcome, bool) {
	for _, o := range r.Outcomes {
		if o.ID == id {
			return o, true
		}
	}
	return Outcome{}, false
}

// Failed reports whether anything went wrong: a node failed or was
// cancelled, a cleanup failed or was abandoned, or the graph was invalid.
// It is true exactly when Err returns an error.
func (r *Result) Failed() bool {
	return r.Err() != nil
}

// Err returns every problem of the walk as one *multierror.Error, in
// Outcomes order: the graph error, the interruption, each failed node's
// error prefixed with its id, and each cleanup error prefixed with
// "cleanup of <id>". Skipped nodes add nothing: their failed ancestor already
// explains them. Err returns nil when every node succeeded and was cleaned.
func (r *Result) Err() error {
	var merr *multierror.Error
	if r.GraphErr != nil {
		merr = multierror.Append(merr, fmt.Errorf("invalid graph: %w", r.GraphErr))
	}
	if r.Interrupted != nil {
		merr = multierror.Append(merr, fmt.Errorf("interrupted: %w", r.Interrupted))
	}
	for _, o := range r.Outcomes {
		if o.Status == Failed {
			merr = multierror.Append(merr, fmt.Errorf("%s: %w", o.ID, o.Err))
		}
		if o.CleanupErr != nil {
			merr = multierror.Append(merr, fmt.Errorf("cleanup of %s: %w", o.ID, o.CleanupErr))
		}
	}
	return merr.ErrorOrNil()
}

// PanicError is the error of a node whose Run or Cleanup panicked.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, for debug logs.
	Stack []byte
}

// Error returns "panic: " followed by the panic value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("panic: %v", e.Value)
}

// EventKind says what an Event reports.
type EventKind int

const (
	// NodeStarted is sent just before a node's Run is called.
	NodeStarted EventKind = iota
	// NodeFinished is sent when Run returned; Event.Status and Event.Err
	// say how.
	NodeFinished
	// CleanupStarted is sent just before a node's Cleanup is called.
	CleanupStarted
	// CleanupFinished is sent when Cleanup returned; Event.Err is its
	// error, as recorded in Outcome.CleanupErr.
	CleanupFinished
)

var eventKindNames = [...]string{
	NodeStarted:     "node started",
	NodeFinished:    "node finished",
	CleanupStarted:  "cleanup started",
	CleanupFinished: "cleanup finished",
}

// String returns the lowercase name of k, such as "node started".
func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports progress of a walk to Options.OnEvent.
type Event struct {
	Kind  EventKind
	ID    string
	Group string
	// Status is set for NodeFinished only.
	Status Status
	// Err is set for NodeFinished and CleanupFinished.
	Err error
	// Time is when the event happened.
	Time time.Time
}

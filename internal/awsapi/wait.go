package awsapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Poll delays of Wait when a WaitSpec leaves them zero.
const (
	DefaultFirstDelay = 250 * time.Millisecond
	DefaultMaxDelay   = 2 * time.Second
)

// WaitSpec describes one wait for Wait.
type WaitSpec struct {
	// What names the wait in errors and logs, e.g.
	// "image ami-123 in eu-west-1 available".
	What string
	// Timeout bounds the whole wait. Zero means no bound other than ctx.
	Timeout time.Duration
	// Grace is how long after the start of the wait a NotFound (IsNotFound)
	// from Check counts as pending: EC2 is eventually consistent and a
	// just-created ID may not be visible yet (aws.md 3.9).
	Grace time.Duration
	// FirstDelay is the delay before the second check (the first is
	// immediate); each later delay is 1.5 times the previous one, up to
	// MaxDelay.
	FirstDelay, MaxDelay time.Duration
	// Check reports whether the wait is over and the state it observed. An
	// error ends the wait unless it is a NotFound within Grace.
	Check func(ctx context.Context) (done bool, state string, err error)
}

// TimeoutError is returned by Wait when WaitSpec.Timeout passes.
type TimeoutError struct {
	What      string
	Waited    time.Duration
	LastState string
	Checks    int
}

// Error says what was awaited, for how long, and what was last seen.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("wait for %s: timed out after %s (%d checks, last state: %s); "+
		"raise the matching setting in the timeouts block if this operation is known to be slow",
		e.What, e.Waited.Round(time.Second), e.Checks, e.LastState)
}

// Wait calls spec.Check until it reports done, returns an error, ctx is done
// or spec.Timeout passes. It checks at once, then after FirstDelay, backing
// off by 1.5x up to MaxDelay, so a resource that becomes ready is noticed
// within MaxDelay. Errors start with "wait for <What>".
func Wait(ctx context.Context, spec WaitSpec) error {
	first, maxDelay := spec.FirstDelay, spec.MaxDelay
	if first <= 0 {
		first = DefaultFirstDelay
	}
	if maxDelay <= 0 {
		maxDelay = DefaultMaxDelay
	}
	first = min(first, maxDelay)
	timer := time.NewTimer(0)
	defer timer.Stop()
	delay := time.Duration(0)
	return run(ctx, spec, func(wctx context.Context) error {
		timer.Reset(delay)
		delay = min(max(first, delay*3/2), maxDelay)
		select {
		case <-wctx.Done():
			return wctx.Err()
		case <-timer.C:
			return nil
		}
	})
}

// run is the loop of a wait: pace (nil for a Check that blocks until
// there is something to check) returns when the next check is due, or an
// error when the wait's context ends.
func run(ctx context.Context, spec WaitSpec, pace func(context.Context) error) error {
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if spec.Timeout > 0 {
		wctx, cancel = context.WithTimeout(ctx, spec.Timeout)
	}
	defer cancel()
	p := poller{spec: spec, start: time.Now(), lastState: "not checked yet"}
	for {
		if pace != nil {
			if err := pace(wctx); err != nil {
				return p.stopped(ctx)
			}
		}
		done, err := p.check(wctx)
		if done {
			return nil
		}
		if err != nil {
			if wctx.Err() != nil {
				return p.stopped(ctx)
			}
			return p.failed(err)
		}
	}
}

// poller is the state of one Wait.
type poller struct {
	spec      WaitSpec
	start     time.Time
	checks    int
	lastState string
}

// check runs Check once; a NotFound within Grace is pending.
func (p *poller) check(ctx context.Context) (bool, error) {
	p.checks++
	done, state, err := p.spec.Check(ctx)
	if err != nil && IsNotFound(err) && time.Since(p.start) < p.spec.Grace {
		p.lastState = "not found yet (" + ErrorCode(err) + ")"
		return false, nil
	}
	if state != "" {
		p.lastState = state
	}
	return done, err
}

// failed returns the error for a wait ended by an error from Check.
func (p *poller) failed(err error) error {
	if IsNotFound(err) {
		return fmt.Errorf("wait for %s: still not found %s after the wait started: %w",
			p.spec.What, time.Since(p.start).Round(time.Second), err)
	}
	return fmt.Errorf("wait for %s: %w", p.spec.What, err)
}

// stopped returns the error for a wait ended by its timeout or by ctx.
func (p *poller) stopped(ctx context.Context) error {
	waited := time.Since(p.start)
	if ctx.Err() == nil {
		return &TimeoutError{What: p.spec.What, Waited: waited, LastState: p.lastState, Checks: p.checks}
	}
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, err) {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return fmt.Errorf("wait for %s: stopped after %s (last state: %s): %w",
		p.spec.What, waited.Round(time.Second), p.lastState, err)
}

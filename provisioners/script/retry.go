package script

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/provision"
)

// First and longest pause between attempts to reach the instance. Tests
// shorten them.
var (
	RetryDelay    = 2 * time.Second
	MaxRetryDelay = 30 * time.Second
)

// Retrier retries an operation on the instance (an upload, the start of a
// script) until it succeeds or Timeout (start_retry_timeout) has passed,
// reconnecting before the next attempt. Each retry is said on Out with its
// reason, the attempt and how long it keeps trying, so a retried failure
// is never silent.
type Retrier struct {
	Comm    provision.Reconnecter
	Out     io.Writer
	Log     hclog.Logger // may be nil
	Timeout time.Duration
	// Stale is set after the connection dropped (an expected disconnect
	// or a failed attempt); the next operation reconnects first.
	Stale bool
}

// Retry runs op until it succeeds. An error from op is a transport error
// (a script's exit status is not an error), so the connection is renewed
// before the next attempt.
func (r *Retrier) Retry(ctx context.Context, what string, op func(context.Context) error) error {
	deadline := time.Now().Add(r.Timeout)
	delay := RetryDelay
	for attempt := 1; ; attempt++ {
		err := r.Reconnect(ctx)
		if err == nil {
			if err = op(ctx); err == nil {
				return nil
			}
			r.Stale = true
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		if time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("%s: gave up after start_retry_timeout %s: %w", what, r.Timeout, err)
		}
		r.Debug("retrying", "operation", what, "delay", delay, "error", err)
		fmt.Fprintf(r.Out, "%s failed (attempt %d): %v; retrying in %s, for at most %s more (start_retry_timeout)\n",
			what, attempt, err, delay, time.Until(deadline).Round(time.Second))
		if err := Sleep(ctx, delay); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		delay = min(2*delay, MaxRetryDelay)
	}
}

// Reconnect re-establishes the connection if it dropped.
func (r *Retrier) Reconnect(ctx context.Context) error {
	if !r.Stale {
		return nil
	}
	if err := r.Comm.Reconnect(ctx); err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	r.Stale = false
	return nil
}

// Debug writes a developer log line when there is a logger.
func (r *Retrier) Debug(msg string, args ...any) {
	if r.Log != nil {
		r.Log.Debug(msg, args...)
	}
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

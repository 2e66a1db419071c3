package powershell

import (
	"context"
	"fmt"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
)

// First and longest pause between attempts to reach the instance.
var (
	retryDelay    = 2 * time.Second
	maxRetryDelay = 30 * time.Second
)

// retry runs op until it succeeds or start_retry_timeout has passed. An
// error from op is a transport error (a script's exit status is not an
// error), so the session reconnects before the next attempt. Each retry
// is said on the output, with its reason.
func (s *session) retry(ctx context.Context, what string, op func(context.Context) error) error {
	timeout := check.DurationValue(s.c.StartRetryTimeout)
	deadline := time.Now().Add(timeout)
	delay := retryDelay
	for attempt := 1; ; attempt++ {
		err := s.reconnect(ctx)
		if err == nil {
			if err = op(ctx); err == nil {
				return nil
			}
			s.stale = true
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		if time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("%s: gave up after start_retry_timeout %s: %w", what, timeout, err)
		}
		s.debug("retrying", "operation", what, "delay", delay, "error", err)
		fmt.Fprintf(s.out, "%s failed (attempt %d): %v; retrying in %s, for at most %s more (start_retry_timeout)\n",
			what, attempt, err, delay, time.Until(deadline).Round(time.Second))
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// reconnect re-establishes the connection if it dropped.
func (s *session) reconnect(ctx context.Context) error {
	if !s.stale {
		return nil
	}
	if err := s.comm.Reconnect(ctx); err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	s.stale = false
	return nil
}

func (s *session) debug(msg string, args ...any) {
	if s.log != nil {
		s.log.Debug(msg, args...)
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

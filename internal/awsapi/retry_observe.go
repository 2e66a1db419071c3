package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"
)

// RetryNotifyAfter is the shortest delay before a retry that is reported
// to the Session's retry observer (WithRetryObserver); quicker retries are
// only logged.
const RetryNotifyAfter = time.Second

// RetryEvent is one retry of an AWS call, reported before the delay that
// precedes the next attempt.
type RetryEvent struct {
	Service, Action, Region string
	// Attempt is the attempt that failed, from 1; MaxAttempts bounds them.
	Attempt, MaxAttempts int
	// Reason is the AWS error code, or the error itself when it has none
	// (a connection error).
	Reason string
	// Delay is the wait before the next attempt.
	Delay time.Duration
	// GiveUpWithin bounds how long the call keeps trying: the longest
	// time until its last attempt starts.
	GiveUpWithin time.Duration
}

// String says what failed, what happens next and for how long, e.g.
// "EC2 DescribeImages in eu-west-1 failed (RequestLimitExceeded); attempt
// 3 of 10 in 2s, trying for at most 1m10s more".
func (e RetryEvent) String() string {
	return fmt.Sprintf("%s %s in %s failed (%s); attempt %d of %d in %s, trying for at most %s more",
		e.Service, e.Action, e.Region, e.Reason, e.Attempt+1, e.MaxAttempts,
		e.Delay.Round(100*time.Millisecond), e.GiveUpWithin.Round(time.Second))
}

// callState is what the middlewares and the retryer learn about one API
// call; the SDK runs a call's attempts one after the other on the calling
// goroutine.
type callState struct {
	attempts int
}

type callStateKey struct{}

// stateOf returns the state of the call ctx belongs to, or nil.
func stateOf(ctx context.Context) *callState {
	st, _ := middleware.GetStackValue(ctx, callStateKey{}).(*callState)
	return st
}

// observedRetryer reports and logs each retry, and takes the delay before
// it itself (in GetRetryToken, the last hook with the call's context before
// the SDK sleeps), so the report can say how long it is: RetryDelay then
// returns 0.
type observedRetryer struct {
	aws.RetryerV2
	notify      func(RetryEvent) // may be nil
	notifyAfter time.Duration
	log         hclog.Logger
}

func observeRetries(r aws.Retryer, notify func(RetryEvent), log hclog.Logger) aws.RetryerV2 {
	v2, ok := r.(aws.RetryerV2)
	if !ok {
		v2 = retryerV2{r}
	}
	return observedRetryer{RetryerV2: v2, notify: notify, notifyAfter: RetryNotifyAfter, log: log}
}

// GetAttemptToken counts the call's attempts.
func (r observedRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if st := stateOf(ctx); st != nil {
		st.attempts++
	}
	return r.RetryerV2.GetAttemptToken(ctx)
}

// GetRetryToken reports the retry, then waits for the backoff delay.
func (r observedRetryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	release, err := r.RetryerV2.GetRetryToken(ctx, opErr)
	if err != nil {
		return release, err
	}
	attempt := 1
	if st := stateOf(ctx); st != nil && st.attempts > 0 {
		attempt = st.attempts
	}
	delay, err := r.RetryerV2.RetryDelay(attempt, opErr)
	if err != nil {
		return release, err
	}
	ev := r.event(ctx, attempt, opErr, delay)
	r.log.Debug("aws request retry", "service", ev.Service, "action", ev.Action, "region", ev.Region,
		"attempt", attempt, "reason", ev.Reason, "delay", delay)
	if r.notify != nil && delay > r.notifyAfter {
		r.notify(ev)
	}
	if err := sleep(ctx, delay); err != nil {
		return release, &aws.RequestCanceledError{Err: err}
	}
	return release, nil
}

// RetryDelay is 0: GetRetryToken has waited already.
func (observedRetryer) RetryDelay(int, error) (time.Duration, error) { return 0, nil }

func (r observedRetryer) event(ctx context.Context, attempt int, opErr error, delay time.Duration) RetryEvent {
	ev := RetryEvent{
		Service: awsmiddleware.GetServiceID(ctx), Action: awsmiddleware.GetOperationName(ctx),
		Region: awsmiddleware.GetRegion(ctx), Attempt: attempt, MaxAttempts: r.MaxAttempts(),
		Reason: ErrorCode(opErr), Delay: delay, GiveUpWithin: delay,
	}
	if ev.Reason == "" {
		ev.Reason = opErr.Error()
	}
	throttle := IsThrottle(opErr)
	for a := attempt + 1; a < ev.MaxAttempts; a++ {
		ev.GiveUpWithin += backoffCeiling(a, throttle)
	}
	return ev
}

// retryerV2 adapts a Retryer without GetAttemptToken.
type retryerV2 struct{ aws.Retryer }

func (r retryerV2) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

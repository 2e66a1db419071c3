package awsapi

import (
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

const (
	// DefaultMaxRetries is the number of attempts per API call, the first
	// included, when Access.MaxRetries is zero (Packer's max_retries default).
	DefaultMaxRetries = 10
	// MaxBackoff caps the delay between two attempts of one API call.
	MaxBackoff = 20 * time.Second

	baseBackoff     = 100 * time.Millisecond
	throttleBackoff = 500 * time.Millisecond
)

// newRetryer returns the SDK's standard retryer: 5xx, connection errors,
// timeouts and throttling codes (RequestLimitExceeded, ...) are retried, 4xx
// are not. The backoff is throttle-aware full jitter capped at MaxBackoff.
//
// The SDK's retry quota (a client-side circuit breaker that stops retrying
// after a burst of failures) is turned off: under throttling from many
// parallel builds it fails builds that a patient retry would finish, and the
// Limiter already keeps the request rate inside the account's budget.
func newRetryer(maxAttempts int) aws.Retryer {
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxRetries
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = MaxBackoff
		o.RateLimiter = ratelimit.None
		o.Backoff = jitterBackoff{throttle: retry.IsErrorThrottles(o.Throttles)}
	})
}

// jitterBackoff is exponential backoff with full jitter. Throttling errors
// start from a longer base, because retrying them quickly only spends tokens
// the bucket does not have.
type jitterBackoff struct {
	throttle retry.IsErrorThrottle
}

// BackoffDelay returns a random delay in [0, backoffCeiling(attempt)).
func (b jitterBackoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	return rand.N(backoffCeiling(attempt, b.throttle.IsErrorThrottle(err).Bool())) + 1, nil
}

// backoffCeiling is the longest delay after the given failed attempt:
// base*2^attempt capped at MaxBackoff.
func backoffCeiling(attempt int, throttle bool) time.Duration {
	base := baseBackoff
	if throttle {
		base = throttleBackoff
	}
	if attempt < 16 && base<<attempt < MaxBackoff {
		return base << attempt
	}
	return MaxBackoff
}

// RetryEventual is a per-call EC2 option that also retries the
// eventual-consistency NotFound codes (EventualConsistencyCodes), for calls
// made right after the resource was created, e.g.
//
//	client.CreateTags(ctx, in, awsapi.RetryEventual)
//
// Without it, NotFound is returned at once.
func RetryEventual(o *ec2.Options) {
	o.Retryer = retry.AddWithErrorCodes(o.Retryer, EventualConsistencyCodes...)
}

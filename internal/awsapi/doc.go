// Package awsapi is imgbuild's only door to AWS: SDK configuration,
// per-region clients, retries, client-side rate limits, waits and the
// reading of AWS error codes.
//
// # Configuration
//
// Builders map their HCL access settings into an Access and call
// NewSession once per access configuration. The SDK's default credential
// chain applies unless static keys, a profile or a shared credentials file
// are given; AssumeRole adds an stscreds provider on top. The standard
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables (and endpoint_url
// in the shared config) are honoured by the SDK; Access.CustomEndpointEC2
// overrides the EC2 endpoint only. Unless skipped, credentials are checked
// with sts GetCallerIdentity, and the error says which source was tried and
// what to do. Secrets never appear in errors or logs.
//
// # Clients, retries and rate limits
//
// Session.EC2, SSM and S3 return one cached client per region. Every client
// uses the SDK's standard retryer (Access.MaxRetries attempts, default 10,
// jittered throttle-aware backoff capped at MaxBackoff): throttling codes
// such as RequestLimitExceeded, 5xx and connection errors are retried, other
// 4xx are not. The eventual-consistency NotFound codes are retried only by
// calls that pass RetryEventual.
//
// Every attempt first takes a token from a Limiter: one token bucket per
// service, region and action, sized like EC2's own (EC2Bucket). By default
// all Sessions share ProcessLimiter, so parallel builds share one budget per
// region instead of each discovering throttling on its own. Limiter.Counts
// reports requests, throttled attempts and time spent waiting.
//
// # Errors
//
// ErrorCode, IsNotFound, IsGone, IsThrottle, IsDuplicate, IsEventualNotFound
// and IsCredentialError are the only code in imgbuild that looks at AWS
// error codes.
//
// Every call is logged at trace level (IMGBUILD_LOG=trace): service,
// action, region, duration, attempts and error code. Every retry is logged
// at debug level, and a retry that waits longer than RetryNotifyAfter is
// reported, before its wait, to the function given with WithRetryObserver:
// a RetryEvent says why, which attempt comes next, in how long, and how
// long the call may keep trying.
//
// # Waits
//
// Wait polls a Check function adaptively: at once, then after 250 ms,
// backing off to a cap of 2 s. NotFound within WaitSpec.Grace counts as
// pending (EC2 is eventually consistent). On timeout it returns a
// *TimeoutError naming what it waited for, how long and the last state
// seen.
//
// Waiter's typed waits (InstanceRunning, InstanceStopped,
// InstanceTerminated, ImageAvailable, CopyAvailable, SnapshotCompleted) are
// batched instead: WaitBatches runs one loop per endpoint, credentials and
// region, shared by every build of the process, and each tick describes
// every pending ID of a kind in one filtered call (image-id, instance-id,
// snapshot-id; 200 IDs per call), so an ID not visible yet does not fail
// the others. The cadence suits the kind (InstanceCadence, ImageCadence,
// SnapshotCadence): a first check after a second or two, then every fifth
// of the time waited, up to a cap of 5 s for instances and 30 s for images
// and snapshots. The waits fail at once on a terminal state and quote the
// resource's StateReason; an ID absent from the answer is pending within
// Timeouts.NotFoundGrace and NotFound after. ImageAvailable and
// CopyAvailable report the image's snapshot progress to Waiter.Progress.
// Deadlines come from Timeouts, computed by EffectiveTimeouts from the
// template's timeouts {} and aws_polling {} blocks.
package awsapi

package awsapi

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Operation is a kind of wait that has its own deadline.
type Operation int

// The waits of imgbuild, one per resource state it waits for.
const (
	OpInstanceRunning Operation = iota
	OpInstanceStopped
	OpInstanceTerminated
	OpImageAvailable
	OpCopyAvailable
	OpSnapshotCompleted
	numOperations
)

// operations is the one table of wait deadlines. The defaults are sized so
// that slow but healthy operations finish (packer.md 6, rows 3-6) while
// polling stays fast; a template changes them with timeouts {} (one
// operation) or aws_polling {} (all of them), see EffectiveTimeouts.
//
//	operation            timeouts {} attribute   default
//	instance running     instance_running        10m
//	instance stopped     instance_stopped        20m  (metal and GPU instances stop slowly)
//	instance terminated  instance_terminated     10m
//	image available      image_available         60m  (CreateImage, RegisterImage)
//	copy available       copy_available          90m  (CopyImage, in its target region)
//	snapshot completed   snapshot_completed      60m
var operations = [numOperations]struct {
	name    string
	timeout time.Duration
	field   func(*Timeouts) *time.Duration
}{
	OpInstanceRunning:    {"instance_running", 10 * time.Minute, func(t *Timeouts) *time.Duration { return &t.InstanceRunning }},
	OpInstanceStopped:    {"instance_stopped", 20 * time.Minute, func(t *Timeouts) *time.Duration { return &t.InstanceStopped }},
	OpInstanceTerminated: {"instance_terminated", 10 * time.Minute, func(t *Timeouts) *time.Duration { return &t.InstanceTerminated }},
	OpImageAvailable:     {"image_available", 60 * time.Minute, func(t *Timeouts) *time.Duration { return &t.ImageAvailable }},
	OpCopyAvailable:      {"copy_available", 90 * time.Minute, func(t *Timeouts) *time.Duration { return &t.CopyAvailable }},
	OpSnapshotCompleted:  {"snapshot_completed", 60 * time.Minute, func(t *Timeouts) *time.Duration { return &t.SnapshotCompleted }},
}

// DefaultNotFoundGrace is how long a just-created resource may be reported
// NotFound before a wait fails, unless Timeouts.NotFoundGrace says
// otherwise.
const DefaultNotFoundGrace = 2 * time.Minute

// Operations returns every Operation, in table order.
func Operations() []Operation {
	ops := make([]Operation, numOperations)
	for i := range ops {
		ops[i] = Operation(i)
	}
	return ops
}

// String returns the operation's attribute name in the timeouts {} block,
// e.g. "copy_available".
func (op Operation) String() string {
	if op < 0 || op >= numOperations {
		return "unknown operation"
	}
	return operations[op].name
}

// Timeouts are the deadlines of the typed waiters, one per operation, and
// the polling cadence they share. A zero field means "not set" to
// EffectiveTimeouts; the waiters replace a zero field with its default.
type Timeouts struct {
	InstanceRunning    time.Duration
	InstanceStopped    time.Duration
	InstanceTerminated time.Duration
	// ImageAvailable bounds the wait after CreateImage or RegisterImage.
	ImageAvailable time.Duration
	// CopyAvailable bounds the wait for a CopyImage in its target region.
	CopyAvailable     time.Duration
	SnapshotCompleted time.Duration
	// NotFoundGrace is how long a just-created resource may be reported
	// NotFound before the wait fails (see WaitSpec.Grace).
	NotFoundGrace time.Duration
	// MaxPollDelay caps the delay between two checks; readiness is noticed
	// within it.
	MaxPollDelay time.Duration
	// PollDelay, when set, is a fixed delay between two checks (aws_polling
	// delay_seconds, or AWS_POLL_DELAY_SECONDS) in place of the adaptive
	// cadence; see Delays.
	PollDelay time.Duration
}

// DefaultTimeouts returns imgbuild's defaults: the operations table,
// DefaultNotFoundGrace, and no polling cap: each kind of wait polls at its
// own Cadence (InstanceCadence, ImageCadence, SnapshotCadence).
func DefaultTimeouts() Timeouts {
	t := Timeouts{NotFoundGrace: DefaultNotFoundGrace}
	for _, op := range operations {
		*op.field(&t) = op.timeout
	}
	return t
}

// Timeout returns the deadline of op: its field, or the default when the
// field is zero.
func (t Timeouts) Timeout(op Operation) time.Duration {
	if op < 0 || op >= numOperations {
		return 0
	}
	if d := *operations[op].field(&t); d > 0 {
		return d
	}
	return operations[op].timeout
}

// Delays returns the polling cadence of every wait: the delay before the
// second check and the longest delay between two checks. With PollDelay
// both are PollDelay (a fixed interval, as Packer's delay_seconds means),
// never above a MaxPollDelay that is set; otherwise polling starts at DefaultFirstDelay and backs off to
// MaxPollDelay (DefaultMaxDelay when zero).
func (t Timeouts) Delays() (first, maxDelay time.Duration) {
	if d := t.PollDelay; d > 0 {
		if t.MaxPollDelay > 0 {
			d = min(d, t.MaxPollDelay)
		}
		return d, d
	}
	maxDelay = t.MaxPollDelay
	if maxDelay <= 0 {
		maxDelay = DefaultMaxDelay
	}
	return min(DefaultFirstDelay, maxDelay), maxDelay
}

// overlay copies the non-zero fields of src into dst.
func overlay(dst *Timeouts, src Timeouts) {
	for _, op := range operations {
		if d := *op.field(&src); d > 0 {
			*op.field(dst) = d
		}
	}
	for _, f := range []struct{ dst, src *time.Duration }{
		{&dst.NotFoundGrace, &src.NotFoundGrace},
		{&dst.MaxPollDelay, &src.MaxPollDelay},
		{&dst.PollDelay, &src.PollDelay},
	} {
		if *f.src > 0 {
			*f.dst = *f.src
		}
	}
}

// withDefaults fills the zero fields of t from DefaultTimeouts.
func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	overlay(&d, t)
	return d
}

// Polling is the Packer-compatible aws_polling block, or the environment
// variables that stand for it (PollingFromEnv).
type Polling struct {
	// MaxAttempts times the delay is the longest any wait may take.
	MaxAttempts int
	// DelaySeconds is the fixed delay between two checks.
	DelaySeconds int
	// TimeoutSeconds is the deprecated AWS_TIMEOUT_SECONDS: the longest
	// any wait may take, ignored when MaxAttempts is set.
	TimeoutSeconds int
}

// Environment variables that Packer's amazon builders read for their
// waiters, and imgbuild with them. AWS_MAX_ATTEMPTS is also the SDK's
// number of attempts of one API call; imgbuild ignores that meaning (its
// retries are max_retries), so the variable only bounds waits, as in Packer.
const (
	EnvMaxAttempts    = "AWS_MAX_ATTEMPTS"
	EnvPollDelay      = "AWS_POLL_DELAY_SECONDS"
	EnvTimeoutSeconds = "AWS_TIMEOUT_SECONDS"
)

// defaultPollDelay is the delay Packer documents for delay_seconds: the
// per-attempt delay when max_attempts is set without one. 240 attempts
// mean one hour, as users learnt them, not eight minutes (plugin #642).
const defaultPollDelay = 15 * time.Second

// PollingFromEnv reads EnvMaxAttempts, EnvPollDelay and EnvTimeoutSeconds
// with getenv. An unset or empty variable leaves its field zero; a value
// that is not a positive integer is an error naming the variable, so
// validation can refuse it.
func PollingFromEnv(getenv func(string) string) (Polling, error) {
	var p Polling
	for _, v := range []struct {
		name string
		dst  *int
	}{
		{EnvMaxAttempts, &p.MaxAttempts},
		{EnvPollDelay, &p.DelaySeconds},
		{EnvTimeoutSeconds, &p.TimeoutSeconds},
	} {
		s := strings.TrimSpace(getenv(v.name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return Polling{}, fmt.Errorf("environment variable %s=%q: want a whole number above 0", v.name, s)
		}
		*v.dst = n
	}
	return p, nil
}

// Or returns p with each zero field taken from fallback: the aws_polling
// block's fields win over the environment's, one by one, as in Packer.
func (p Polling) Or(fallback Polling) Polling {
	for _, f := range []struct{ dst, src *int }{
		{&p.MaxAttempts, &fallback.MaxAttempts},
		{&p.DelaySeconds, &fallback.DelaySeconds},
		{&p.TimeoutSeconds, &fallback.TimeoutSeconds},
	} {
		if *f.dst <= 0 {
			*f.dst = *f.src
		}
	}
	return p
}

// apply sets t from p: DelaySeconds is the fixed polling interval (and the
// cap), MaxAttempts × DelaySeconds (15 s when DelaySeconds is zero) bounds
// every wait, and TimeoutSeconds bounds every wait when MaxAttempts is
// zero.
func (p Polling) apply(t *Timeouts) {
	delay := time.Duration(p.DelaySeconds) * time.Second
	if delay > 0 {
		t.PollDelay, t.MaxPollDelay = delay, delay
	}
	var bound time.Duration
	switch {
	case p.MaxAttempts > 0 && delay > 0:
		bound = time.Duration(p.MaxAttempts) * delay
	case p.MaxAttempts > 0:
		bound = time.Duration(p.MaxAttempts) * defaultPollDelay
	case p.TimeoutSeconds > 0:
		bound = time.Duration(p.TimeoutSeconds) * time.Second
	default:
		return
	}
	for _, op := range operations {
		*op.field(t) = bound
	}
}

// ResolveTimeouts computes the Timeouts of a build. Precedence, highest
// first:
//
//  1. a non-zero field of block (the imgbuild timeouts {} block), for its
//     operation only;
//  2. polling (aws_polling {}), field by field over env;
//  3. env (PollingFromEnv: AWS_MAX_ATTEMPTS, AWS_POLL_DELAY_SECONDS and
//     the deprecated AWS_TIMEOUT_SECONDS);
//  4. DefaultTimeouts (the operations table).
//
// From 2 and 3, as Packer documents aws_polling: delay_seconds is the
// fixed delay between two checks; max_attempts × delay_seconds bounds
// every wait, with 15 s for a missing delay_seconds; AWS_TIMEOUT_SECONDS
// alone bounds every wait. NotFoundGrace comes from block or the default
// only.
func ResolveTimeouts(polling *Polling, block Timeouts, env Polling) Timeouts {
	t := DefaultTimeouts()
	p := env
	if polling != nil {
		p = polling.Or(env)
	}
	p.apply(&t)
	overlay(&t, block)
	return t
}

// EffectiveTimeouts is ResolveTimeouts with the process environment.
// Environment values that PollingFromEnv refuses are left out here;
// validation reports them.
func EffectiveTimeouts(polling *Polling, block Timeouts) Timeouts {
	env, err := PollingFromEnv(os.Getenv)
	if err != nil {
		env = Polling{}
	}
	return ResolveTimeouts(polling, block, env)
}

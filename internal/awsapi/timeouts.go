package awsapi

import "time"

// Timeouts are the deadlines of the typed waiters, one per operation, and
// the polling cap they share. A zero field means "not set" to
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
}

// DefaultTimeouts returns imgbuild's defaults: sized so that slow but
// healthy operations finish (packer.md 6, rows 3-6) while polling stays fast.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		InstanceRunning:    10 * time.Minute,
		InstanceStopped:    20 * time.Minute, // metal and GPU instances stop slowly
		InstanceTerminated: 10 * time.Minute,
		ImageAvailable:     60 * time.Minute,
		CopyAvailable:      90 * time.Minute,
		SnapshotCompleted:  60 * time.Minute,
		NotFoundGrace:      2 * time.Minute,
		MaxPollDelay:       DefaultMaxDelay,
	}
}

// Polling is the Packer-compatible aws_polling block.
type Polling struct {
	// MaxAttempts times the delay is the longest any wait may take.
	MaxAttempts int
	// DelaySeconds is the delay between attempts; imgbuild uses it as the
	// cap of its adaptive poll delay.
	DelaySeconds int
}

// packerV1Delay is the per-attempt delay of Packer's original waiters, used
// when aws_polling sets max_attempts without delay_seconds.
const packerV1Delay = 15 * time.Second

// EffectiveTimeouts computes the Timeouts of a build. Precedence, highest
// first:
//
//  1. a non-zero field of block (the imgbuild timeouts {} block);
//  2. polling (aws_polling), when non-nil: max_attempts × delay_seconds
//     sets every operation's timeout, and delay_seconds sets MaxPollDelay.
//     max_attempts alone multiplies 15 s, the delay Packer's waiters used
//     when users learnt to set it (240 means one hour, not eight minutes:
//     plugin #642); delay_seconds alone only sets MaxPollDelay;
//  3. DefaultTimeouts.
//
// NotFoundGrace comes from block or the default only.
func EffectiveTimeouts(polling *Polling, block Timeouts) Timeouts {
	t := DefaultTimeouts()
	if polling != nil {
		polling.apply(&t)
	}
	overlay(&t, block)
	return t
}

func (p *Polling) apply(t *Timeouts) {
	delay := time.Duration(p.DelaySeconds) * time.Second
	if delay > 0 {
		t.MaxPollDelay = delay
	}
	if p.MaxAttempts <= 0 {
		return
	}
	if delay <= 0 {
		delay = packerV1Delay
	}
	d := time.Duration(p.MaxAttempts) * delay
	t.InstanceRunning, t.InstanceStopped, t.InstanceTerminated = d, d, d
	t.ImageAvailable, t.CopyAvailable, t.SnapshotCompleted = d, d, d
}

// overlay copies the non-zero fields of src into dst.
func overlay(dst *Timeouts, src Timeouts) {
	for _, f := range []struct{ dst, src *time.Duration }{
		{&dst.InstanceRunning, &src.InstanceRunning},
		{&dst.InstanceStopped, &src.InstanceStopped},
		{&dst.InstanceTerminated, &src.InstanceTerminated},
		{&dst.ImageAvailable, &src.ImageAvailable},
		{&dst.CopyAvailable, &src.CopyAvailable},
		{&dst.SnapshotCompleted, &src.SnapshotCompleted},
		{&dst.NotFoundGrace, &src.NotFoundGrace},
		{&dst.MaxPollDelay, &src.MaxPollDelay},
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

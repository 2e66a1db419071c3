package awsapi

import "time"

// Cadence is how often the batched waits check one kind of resource: the
// first check First after the wait starts, then every elapsed/5 (a wait
// that has run 50 s is checked every 10 s), never more often than Min nor
// less often than Max. Readiness is so noticed within about a fifth of the
// time already waited, and a long wait costs few calls.
type Cadence struct {
	First, Min, Max time.Duration
}

// cadenceGrowth divides the time already waited into the next interval.
const cadenceGrowth = 5

// The cadences of the typed waits, one per kind of resource, sized to how
// long the operation takes: instances change state in seconds, images and
// snapshots in minutes. Timeouts.MaxPollDelay, when set, replaces Max.
var (
	// InstanceCadence paces InstanceRunning, InstanceStopped and
	// InstanceTerminated.
	// No instance changes state within 2 s of the call, so the first
	// check comes then; the next ones every half second until the wait
	// has run 2.5 s (elapsed/5 takes over), so that a build, which waits
	// on its instance three times along its critical path, loses little
	// to polling.
	InstanceCadence = Cadence{First: 2 * time.Second, Min: 500 * time.Millisecond, Max: 5 * time.Second}
	// ImageCadence paces ImageAvailable and CopyAvailable.
	ImageCadence = Cadence{First: 2 * time.Second, Min: time.Second, Max: 30 * time.Second}
	// SnapshotCadence paces SnapshotCompleted.
	SnapshotCadence = Cadence{First: 2 * time.Second, Min: time.Second, Max: 30 * time.Second}
)

// Next returns the delay before the next check of a wait that has run for
// elapsed.
func (c Cadence) Next(elapsed time.Duration) time.Duration {
	return min(max(elapsed/cadenceGrowth, c.Min), c.Max)
}

// capped returns c with its delays capped at maxDelay (ignored when zero).
func (c Cadence) capped(maxDelay time.Duration) Cadence {
	if maxDelay <= 0 {
		return c
	}
	return Cadence{First: min(c.First, maxDelay), Min: min(c.Min, maxDelay), Max: maxDelay}
}

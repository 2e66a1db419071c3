package awsapi

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// An image wait that reports progress (Waiter.Progress) describes the
// image's snapshots as long as they are pending, not the image: EC2 makes
// an image available only once its snapshots are completed, so while
// they are pending the image is too, and one DescribeSnapshots per tick
// both shows progress and tells when the image must be looked at again.
// The image itself is described when the wait starts, in the tick none of
// its snapshots is pending any more or one is in error or missing from the
// answer, and at least every Cadence.Max, so that a failure that leaves
// the snapshots pending still ends the wait.
//
// The snapshots' progress also paces the wait: progress p% after e of
// waiting puts the end at about e*100/p, and the next check is then,
// (padded by 2% and 100ms), between a quarter of the cadence's Min and its
// Max, instead of elapsed/cadenceGrowth.

// progressMemory is what an image watch remembers between ticks; only the
// loop's goroutine touches it.
type progressMemory struct {
	image   types.Image // the last pending image seen
	snaps   []string    // its snapshots, nil when the image must be described
	imageAt time.Time   // when the image was last described
	// eta is the remaining time the snapshots' progress predicts, zero
	// when unknown.
	eta time.Duration
}

// snapshotsOnly reports whether w's next tick may describe w's snapshots
// instead of its image.
func (w *watch) snapshotsOnly(now time.Time) bool {
	return w.progress && len(w.mem.snaps) > 0 && now.Sub(w.mem.imageAt) < w.cadence.Max
}

// remember records what a tick saw of an image watch: the pending image
// and its snapshots, and the remaining time their progress predicts.
func (w *watch) remember(o observation, fresh bool, now time.Time) {
	w.mem.eta = 0
	if o.err != nil || !o.found || o.image.State != types.ImageStatePending {
		w.mem.snaps = nil
		return
	}
	if fresh {
		w.mem.image, w.mem.imageAt = o.image, now
		w.mem.snaps = imageSnapshotIDs(o.image)
	}
	if p, ok := snapshotProgress(o.snapshots); ok && p > 0 && p < 100 {
		// The operation started a request's time before the wait: a
		// margin keeps the predicted check from coming just too early.
		elapsed := now.Sub(w.start)
		w.mem.eta = (elapsed*100/time.Duration(p)-elapsed)*etaMargin/100 + etaSlack
	}
}

// etaMargin (percent) and etaSlack pad the predicted remaining time.
const (
	etaMargin = 102
	etaSlack  = 100 * time.Millisecond
)

// nextDelay returns the delay before w's next check after a tick at
// elapsed: the progress prediction when there is one, else the cadence.
func (w *watch) nextDelay(elapsed time.Duration) time.Duration {
	if w.mem.eta > 0 {
		return min(max(w.mem.eta, w.cadence.Min/4), w.cadence.Max)
	}
	return w.cadence.Next(elapsed)
}

// stillPending reports whether the snapshots ids say their image is
// still being made: every one is in s, none in error, some pending.
func (s seen) stillPending(ids []string) bool {
	pending := false
	for _, id := range ids {
		snap, ok := s.snapshots[id]
		switch {
		case !ok || snap.State == types.SnapshotStateError:
			return false
		case snap.State == types.SnapshotStatePending:
			pending = true
		}
	}
	return pending
}

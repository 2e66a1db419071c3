package localcloud

import "time"

// criticalPath returns the longest chain of delays the cloud drew for one
// build: an instance's boot, stop and termination, the image made from it,
// and the slowest copy of that image. With jitter the slowest of several
// copies is longer than the nominal copy time, so a benchmark compares its
// wall time with this rather than with the settings.
func (w *world) criticalPath() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	slowestCopy := map[string]time.Duration{} // region/image -> its slowest copy
	for _, im := range w.images {
		if d := im.until.Sub(im.start); d > slowestCopy[im.from] {
			slowestCopy[im.from] = d
		}
	}
	var longest time.Duration
	for key, im := range w.images {
		in := w.instances[im.from]
		if in == nil {
			continue // a copy, or a registered image
		}
		d := in.drawn["pending"] + in.drawn["stopping"] + in.drawn["shutting-down"] +
			im.until.Sub(im.start) + slowestCopy[key]
		longest = max(longest, d)
	}
	return longest
}

package localcloud

import (
	"context"
	"strconv"
	"time"
)

// The snapshots of an image being made (CreateImage, or CopyImage in the
// destination region) are pending while the image is: DescribeSnapshots
// reports their progress growing with the time elapsed since the call
// ("37%"), as EC2 does, and state completed with "100%" once the image is
// available (moto's own answer); when the image fails they are in state
// error.

// imageSnapshots records the snapshots of a new image made by
// CreateImage or CopyImage: they follow the image's progress and share
// its eventual-consistency window.
func (w *world) imageSnapshots(region, imageID string, snaps []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := region + "/" + imageID
	born, ok := w.born[key]
	if !ok {
		born = w.now()
	}
	for _, s := range snaps {
		w.snapImage[region+"/"+s] = key
		w.born[region+"/"+s] = born
	}
}

// snapshotState returns the state and progress to report for a snapshot
// instead of moto's, and false when moto's stand (the snapshot belongs to
// no image being made, or its image is available).
func (w *world) snapshotState(region, id string) (state, progress string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	im := w.images[w.snapImage[region+"/"+id]]
	switch {
	case im == nil:
		return "", "", false
	case w.now().Before(im.until):
		return "pending", strconv.Itoa(percent(w.now().Sub(im.start), im.until.Sub(im.start))) + "%", true
	case im.failed:
		return "error", "", true
	}
	return "", "", false
}

// percent returns how far elapsed is into total, 0 to 99: a pending
// snapshot never shows 100%.
func percent(elapsed, total time.Duration) int {
	if total <= 0 {
		return 99
	}
	return min(max(int(100*elapsed/total), 0), 99)
}

func (p *proxy) afterDescribeSnapshots(_ context.Context, r *request, resp *node) {
	p.dropInvisible(r.region, resp, "snapshotId", "snapshotSet")
	for _, item := range resp.items("snapshotSet") {
		state, progress, ok := p.world.snapshotState(r.region, item.value("snapshotId"))
		if !ok {
			continue
		}
		item.set("status", state)
		if state == "error" {
			item.set("statusMessage", "the image this snapshot was made for failed (local cloud fail-images setting)")
			continue
		}
		item.set("progress", progress)
	}
}

// dropInvisible removes from a Describe response the items (at path,
// identified by their idField) still inside their eventual-consistency
// window: like EC2, a list or filtered Describe does not show a new
// resource at once.
func (p *proxy) dropInvisible(region string, resp *node, idField string, path ...string) {
	set := resp.path(path...)
	if set == nil || p.s.Consistency <= 0 || !p.s.ConsistencyLists {
		return
	}
	kept := set.children[:0]
	for _, c := range set.children {
		if c.name != "item" || !p.world.invisible(region, c.value(idField)) {
			kept = append(kept, c)
		}
	}
	set.children = kept
}

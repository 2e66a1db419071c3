package awsapi

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// report calls w.Progress with img's completion when it differs from
// *last: 100 once available, else the snapshots' progress capped at 99.
func (w Waiter) report(id string, last *int, img types.Image, snaps []types.Snapshot) {
	if w.Progress == nil {
		return
	}
	pct := -1
	switch img.State {
	case types.ImageStateAvailable:
		pct = 100
	case types.ImageStatePending:
		if p, ok := snapshotProgress(snaps); ok {
			pct = min(p, 99)
		}
	}
	if pct >= 0 && pct != *last {
		*last = pct
		w.Progress(w.Region, id, pct)
	}
}

// snapshotProgress returns the progress of snaps weighted by volume size
// (equally when sizes are missing), and false when none reports one.
func snapshotProgress(snaps []types.Snapshot) (int, bool) {
	var done, total float64
	for _, s := range snaps {
		p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(aws.ToString(s.Progress)), "%"), 64)
		if err != nil {
			continue
		}
		size := float64(max(aws.ToInt32(s.VolumeSize), 1))
		done += size * min(max(p, 0), 100)
		total += size
	}
	if total == 0 {
		return 0, false
	}
	return int(done / total), true
}

// snapshotsSeen calls w.Snapshots with img's snapshot IDs when it lists
// more than the *known it had listed before.
func (w Waiter) snapshotsSeen(id string, known *int, img types.Image) {
	if w.Snapshots == nil {
		return
	}
	if ids := imageSnapshotIDs(img); len(ids) > *known {
		*known = len(ids)
		w.Snapshots(w.Region, id, ids)
	}
}

package awsapi

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestProgressPacesImageWaits checks that an image wait with progress
// describes the image only when it starts, once its snapshot is done and
// at most every ImageCadence.Max meanwhile, and that the snapshot's
// progress times the check that sees the image available.
func TestProgressPacesImageWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ready = 75 * time.Second
		f := newFleet()
		f.add("ami-1", fakeRes{ready: ready, pending: "pending", final: "available", snapshots: []string{"snap-1"}})
		f.add("snap-1", fakeRes{ready: ready, pending: "pending", final: "completed", size: 8})
		w := fleetWaiter(f)
		w.Progress = func(string, string, int) {}
		start := time.Now()
		if _, err := w.ImageAvailable(context.Background(), "ami-1"); err != nil {
			t.Fatal(err)
		}
		if late := time.Since(start) - ready; late > 2*time.Second {
			t.Errorf("available at %v, noticed %v late; the progress predicts the end", ready, late)
		}
		// The start, twice ImageCadence.Max, the end.
		if n := f.callCount("DescribeImages"); n > 4 {
			t.Errorf("%d DescribeImages calls, want at most 4", n)
		}
		if n := f.callCount("DescribeSnapshots"); n > 8 {
			t.Errorf("%d DescribeSnapshots calls, want at most 8 (progress paces the checks)", n)
		}
	})
}

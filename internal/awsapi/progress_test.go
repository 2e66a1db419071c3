package awsapi

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestImageProgressFromSnapshots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.add("ami-1", fakeRes{ready: 100 * time.Second, pending: "pending", final: "available",
			snapshots: []string{"snap-root", "snap-data"}})
		f.add("snap-root", fakeRes{ready: 40 * time.Second, pending: "pending", final: "completed", size: 10})
		f.add("snap-data", fakeRes{ready: 80 * time.Second, pending: "pending", final: "completed", size: 30})
		w := fleetWaiter(f)
		var got []int
		w.Progress = func(region, id string, pct int) {
			if region != "eu-west-1" || id != "ami-1" {
				t.Errorf("progress for %s %s", region, id)
			}
			got = append(got, pct)
		}
		if _, err := w.ImageAvailable(context.Background(), "ami-1"); err != nil {
			t.Fatal(err)
		}
		if len(got) < 5 || got[len(got)-1] != 100 || got[len(got)-2] != 99 {
			t.Fatalf("progress reports %v, want several rising to 99, then 100", got)
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Errorf("progress %v is not rising", got)
			}
		}
		// At 2s: root 5%, data 2% weighted 10:30 gives 2.75%.
		if got[0] != 2 {
			t.Errorf("first report %d%%, want 2%% (snapshots weighted by size)", got[0])
		}
		if img, snap := f.callCount("DescribeImages"), f.callCount("DescribeSnapshots"); snap < img || snap == 0 {
			t.Errorf("%d DescribeSnapshots for %d DescribeImages: want the snapshots, not the image, described while they are pending", snap, img)
		}
	})
}

func TestSnapshotsReportedWhileTheImageIsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.add("ami-1", fakeRes{ready: 100 * time.Second, pending: "pending", final: "available",
			snapshots: []string{"snap-root", "snap-data"}})
		w := fleetWaiter(f)
		var calls [][]string
		var at time.Duration
		start := time.Now()
		w.Snapshots = func(region, id string, ids []string) {
			if region != "eu-west-1" || id != "ami-1" {
				t.Errorf("snapshots for %s %s", region, id)
			}
			calls = append(calls, ids)
			at = time.Since(start)
		}
		if _, err := w.ImageAvailable(context.Background(), "ami-1"); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || len(calls[0]) != 2 || calls[0][0] != "snap-root" || calls[0][1] != "snap-data" {
			t.Fatalf("Snapshots called with %v, want once with [snap-root snap-data]", calls)
		}
		if at >= 100*time.Second {
			t.Errorf("snapshots reported at %v, once the image was available; want while pending", at)
		}
	})
}

package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fleetWaiter returns a Waiter on f with its own WaitBatches.
func fleetWaiter(f *fleetFake) Waiter {
	return Waiter{Client: f, Region: "eu-west-1", Batches: NewWaitBatches()}
}

// waitAll runs wait for every id concurrently and returns the errors by id.
func waitAll(ids []string, wait func(id string) error) map[string]error {
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			err := wait(id)
			mu.Lock()
			defer mu.Unlock()
			errs[id] = err
		})
	}
	wg.Wait()
	return errs
}

func TestBatchedImageWaitsShareOneDescribePerTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		var ids []string
		for i := range 50 {
			id := fmt.Sprintf("ami-%03d", i)
			f.add(id, fakeRes{ready: 10*time.Second + time.Duration(i)*time.Second, pending: "pending", final: "available"})
			ids = append(ids, id)
		}
		w := fleetWaiter(f)
		start := time.Now()
		late := map[string]time.Duration{}
		var mu sync.Mutex
		errs := waitAll(ids, func(id string) error {
			_, err := w.ImageAvailable(context.Background(), id)
			mu.Lock()
			late[id] = time.Since(start)
			mu.Unlock()
			return err
		})
		for i, id := range ids {
			if errs[id] != nil {
				t.Fatalf("%s: %v", id, errs[id])
			}
			ready := 10*time.Second + time.Duration(i)*time.Second
			if d := late[id] - ready; d > ready/cadenceGrowth+time.Second {
				t.Errorf("%s ready at %v noticed %v late", id, ready, d)
			}
		}
		calls := f.callCount("DescribeImages")
		t.Logf("50 image waits ready from 10s to 59s: %d DescribeImages calls", calls)
		if calls > 20 {
			t.Errorf("%d DescribeImages calls for 50 waits, want one per tick (at most 20)", calls)
		}
		synctest.Wait()
		if n := w.Batches.loopCount(); n != 0 {
			t.Errorf("%d loops still running after every wait ended", n)
		}
	})
}

func TestBatchSplitsIDsIntoChunks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		var ids []string
		for i := range 450 {
			id := fmt.Sprintf("i-%04d", i)
			f.add(id, fakeRes{ready: 3 * time.Second, pending: "pending", final: "running"})
			ids = append(ids, id)
		}
		w := fleetWaiter(f)
		for id, err := range waitAll(ids, func(id string) error {
			_, err := w.InstanceRunning(context.Background(), id)
			return err
		}) {
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
		}
		// Ticks at 1s, 2s and 3s, each in three calls of at most 200 IDs.
		if got := f.calls["DescribeInstances"]; fmt.Sprint(got) != "[200 200 50 200 200 50 200 200 50]" {
			t.Errorf("IDs per DescribeInstances call = %v", got)
		}
	})
}

func TestBatchMissingIDIsPendingWithinGraceThenNotFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.add("ami-late", fakeRes{visible: 90 * time.Second, ready: 100 * time.Second, pending: "pending", final: "available"})
		f.add("ami-ok", fakeRes{ready: 5 * time.Second, pending: "pending", final: "available"})
		w := fleetWaiter(f)
		start := time.Now()
		errs := waitAll([]string{"ami-late", "ami-ok", "ami-never"}, func(id string) error {
			_, err := w.ImageAvailable(context.Background(), id)
			return err
		})
		if errs["ami-late"] != nil || errs["ami-ok"] != nil {
			t.Errorf("visible images: %v, %v", errs["ami-late"], errs["ami-ok"])
		}
		err := errs["ami-never"]
		if !IsNotFound(err) || !strings.Contains(err.Error(), "wait for image ami-never in eu-west-1 available: still not found") {
			t.Errorf("missing image: %v", err)
		}
		if d := time.Since(start); d < DefaultTimeouts().NotFoundGrace || d > DefaultTimeouts().NotFoundGrace+30*time.Second {
			t.Errorf("missing image failed after %v, want just after the %v grace", d, DefaultTimeouts().NotFoundGrace)
		}
	})
}

func TestBatchFailuresCarryStateReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.add("ami-ok", fakeRes{ready: 20 * time.Second, pending: "pending", final: "available"})
		f.add("ami-bad", fakeRes{ready: 8 * time.Second, pending: "pending", final: "failed",
			reason: &types.StateReason{Code: aws.String("Client.InvalidSnapshot.NotFound"), Message: aws.String("snap-1 is gone")}})
		f.add("i-1", fakeRes{ready: 4 * time.Second, pending: "pending", final: "terminated",
			reason: &types.StateReason{Code: aws.String("Server.InsufficientInstanceCapacity"), Message: aws.String("no capacity")}})
		w := fleetWaiter(f)
		errs := waitAll([]string{"ami-ok", "ami-bad", "i-1"}, func(id string) error {
			if strings.HasPrefix(id, "i-") {
				_, err := w.InstanceRunning(context.Background(), id)
				return err
			}
			_, err := w.ImageAvailable(context.Background(), id)
			return err
		})
		if errs["ami-ok"] != nil {
			t.Errorf("ami-ok: %v", errs["ami-ok"])
		}
		for id, want := range map[string]string{
			"ami-bad": "image ami-bad is failed: Client.InvalidSnapshot.NotFound: snap-1 is gone",
			"i-1":     "instance i-1 is terminated, not running: Server.InsufficientInstanceCapacity: no capacity",
		} {
			if err := errs[id]; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %v, want %q", id, err, want)
			}
		}
	})
}

func TestBatchedWaitTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.add("snap-1", fakeRes{ready: time.Hour, pending: "pending", final: "completed"})
		w := fleetWaiter(f)
		w.Timeouts.SnapshotCompleted = 5 * time.Minute
		start := time.Now()
		_, err := w.SnapshotCompleted(context.Background(), "snap-1")
		var te *TimeoutError
		if !errors.As(err, &te) || time.Since(start) != 5*time.Minute {
			t.Fatalf("after %v: %v, want a TimeoutError at 5m", time.Since(start), err)
		}
		if !strings.Contains(te.LastState, "pending") {
			t.Errorf("last state %q", te.LastState)
		}
	})
}

func TestBatchedWaitCancelStopsTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.add("i-1", fakeRes{ready: time.Hour, pending: "pending", final: "running"})
		w := fleetWaiter(f)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Second, cancel)
		start := time.Now()
		_, err := w.InstanceRunning(ctx, "i-1")
		if !errors.Is(err, context.Canceled) || time.Since(start) != 30*time.Second {
			t.Fatalf("after %v: %v, want context.Canceled at 30s", time.Since(start), err)
		}
		synctest.Wait()
		if n := w.Batches.loopCount(); n != 0 {
			t.Errorf("%d loops running after the only wait was cancelled", n)
		}
		calls := f.callCount("DescribeInstances")
		time.Sleep(10 * time.Minute)
		if n := f.callCount("DescribeInstances"); n != calls {
			t.Errorf("%d DescribeInstances after the wait ended", n-calls)
		}
	})
}

func TestCloseEndsPendingWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		f.add("ami-1", fakeRes{ready: time.Hour, pending: "pending", final: "available"})
		w := fleetWaiter(f)
		time.AfterFunc(time.Minute, w.Batches.Close)
		_, err := w.ImageAvailable(context.Background(), "ami-1")
		if !errors.Is(err, ErrWaitsClosed) {
			t.Errorf("pending wait: %v, want ErrWaitsClosed", err)
		}
		if _, err := w.ImageAvailable(context.Background(), "ami-1"); !errors.Is(err, ErrWaitsClosed) {
			t.Errorf("wait after Close: %v, want ErrWaitsClosed", err)
		}
	})
}

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
		if img, snap := f.callCount("DescribeImages"), f.callCount("DescribeSnapshots"); snap >= img || snap == 0 {
			t.Errorf("%d DescribeSnapshots for %d DescribeImages: want one per tick while the image is pending", snap, img)
		}
	})
}

func TestSessionsWithTheSameCredentialsShareBatches(t *testing.T) {
	isolateEnv(t)
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.on("DescribeImages", ok(`<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">`+
			`<requestId>r</requestId><imagesSet>`+
			`<item><imageId>ami-1</imageId><imageState>available</imageState></item>`+
			`<item><imageId>ami-2</imageId><imageState>available</imageState></item>`+
			`</imagesSet></DescribeImagesResponse>`))
		bs := NewWaitBatches()
		waiters := map[string]Waiter{}
		for _, id := range []string{"ami-1", "ami-2"} {
			w := NewWaiter(inProcessSession(t, f, testAccess()).EC2(""), Timeouts{})
			w.Batches = bs
			waiters[id] = w
		}
		errs := waitAll([]string{"ami-1", "ami-2"}, func(id string) error {
			_, err := waiters[id].ImageAvailable(context.Background(), id)
			return err
		})
		if errs["ami-1"] != nil || errs["ami-2"] != nil {
			t.Fatal(errs)
		}
		calls := f.callsTo("DescribeImages")
		if len(calls) != 1 {
			t.Fatalf("%d DescribeImages for two sessions' waits, want 1", len(calls))
		}
		form := url.Values(calls[0].form)
		if form.Get("Filter.1.Name") != "image-id" || form.Get("Filter.1.Value.1") == "" || form.Get("Filter.1.Value.2") == "" {
			t.Errorf("DescribeImages form %v, want both IDs in an image-id filter", form)
		}
	})
}

func TestCadence(t *testing.T) {
	tests := []struct {
		c       Cadence
		elapsed time.Duration
		want    time.Duration
	}{
		{InstanceCadence, 0, time.Second},
		{InstanceCadence, 10 * time.Second, 2 * time.Second},
		{InstanceCadence, time.Hour, 5 * time.Second},
		{ImageCadence, 3 * time.Second, time.Second},
		{ImageCadence, 100 * time.Second, 20 * time.Second},
		{ImageCadence, time.Hour, 30 * time.Second},
		{ImageCadence.capped(10 * time.Second), time.Hour, 10 * time.Second},
		{ImageCadence.capped(500 * time.Millisecond), 0, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := tt.c.next(tt.elapsed); got != tt.want {
			t.Errorf("%+v.next(%v) = %v, want %v", tt.c, tt.elapsed, got, tt.want)
		}
	}
}

func TestStaggeredWaitsStillShareTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet()
		w := fleetWaiter(f)
		var wg sync.WaitGroup
		for i := range 20 {
			id := fmt.Sprintf("ami-%02d", i)
			start := time.Duration(i) * time.Second // one build's copy a second
			f.add(id, fakeRes{ready: start + time.Minute, pending: "pending", final: "available"})
			wg.Go(func() {
				time.Sleep(start)
				if _, err := w.CopyAvailable(context.Background(), id); err != nil {
					t.Errorf("%s: %v", id, err)
				}
			})
		}
		wg.Wait()
		calls := f.callCount("DescribeImages")
		t.Logf("20 copies started 1s apart, 60s each: %d DescribeImages calls", calls)
		if calls > 40 {
			t.Errorf("%d DescribeImages calls, want at most 40", calls)
		}
	})
}

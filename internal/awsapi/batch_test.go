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
		// Ticks at 2s (InstanceCadence.First), 2.5s and 3s, each in three
		// calls of at most 200 IDs.
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

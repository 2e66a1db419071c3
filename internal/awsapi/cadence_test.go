package awsapi

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestCadence(t *testing.T) {
	tests := []struct {
		c       Cadence
		elapsed time.Duration
		want    time.Duration
	}{
		{InstanceCadence, 0, 500 * time.Millisecond},
		{InstanceCadence, 10 * time.Second, 2 * time.Second},
		{InstanceCadence, time.Hour, 5 * time.Second},
		{ImageCadence, 3 * time.Second, time.Second},
		{ImageCadence, 100 * time.Second, 20 * time.Second},
		{ImageCadence, time.Hour, 30 * time.Second},
		{ImageCadence.capped(10 * time.Second), time.Hour, 10 * time.Second},
		{ImageCadence.capped(500 * time.Millisecond), 0, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := tt.c.Next(tt.elapsed); got != tt.want {
			t.Errorf("%+v.Next(%v) = %v, want %v", tt.c, tt.elapsed, got, tt.want)
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

// TestWatchCadenceFromTimeouts: aws_polling delay_seconds (PollDelay) is a
// fixed interval, as in Packer; without it each kind keeps its cadence,
// capped by a set MaxPollDelay.
func TestWatchCadenceFromTimeouts(t *testing.T) {
	tests := []struct {
		name string
		t    Timeouts
		want Cadence
	}{
		{"kind cadence", Timeouts{}, ImageCadence},
		{"capped", Timeouts{MaxPollDelay: 10 * time.Second}, Cadence{First: 2 * time.Second, Min: time.Second, Max: 10 * time.Second}},
		{"fixed delay_seconds", Timeouts{PollDelay: 15 * time.Second, MaxPollDelay: 15 * time.Second},
			Cadence{First: 2 * time.Second, Min: 15 * time.Second, Max: 15 * time.Second}},
	}
	for _, tt := range tests {
		w := Waiter{Timeouts: tt.t}
		if got := w.watch(kindImage, "ami-1", ImageCadence).cadence; got != tt.want {
			t.Errorf("%s: cadence %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

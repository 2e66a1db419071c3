package awsapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// script returns a Check that replays states (an error for "notfound")
// one per call, repeating the last, and records when each call was made.
func script(states []string, times *[]time.Duration) func(context.Context) (bool, string, error) {
	start := time.Now()
	return func(context.Context) (bool, string, error) {
		*times = append(*times, time.Since(start))
		s := states[min(len(*times), len(states))-1]
		switch s {
		case "notfound":
			return false, "", apiErr("InvalidAMIID.NotFound")
		case "broken":
			return false, s, errors.New("image ami-1 is failed: Client.Oops: went wrong")
		}
		return s == "available", s, nil
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		name    string
		states  []string
		grace   time.Duration
		wantErr []string // substrings; nil means success
		calls   int
	}{
		{"pending then available", []string{"pending", "pending", "available"}, 0, nil, 3},
		{"not found within grace is pending", []string{"notfound", "notfound", "available"}, time.Minute, nil, 3},
		{"not found after grace fails", []string{"notfound"}, time.Second,
			[]string{"wait for image ami-1 available: still not found", "InvalidAMIID.NotFound"}, 0},
		{"not found without grace fails at once", []string{"notfound", "available"}, 0,
			[]string{"InvalidAMIID.NotFound"}, 1},
		{"check error ends the wait", []string{"pending", "broken", "available"}, 0,
			[]string{"wait for image ami-1 available: image ami-1 is failed: Client.Oops: went wrong"}, 2},
		{"timeout", []string{"pending"}, 0,
			[]string{"wait for image ami-1 available: timed out after 10m0s", "last state: pending", "timeouts block"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var times []time.Duration
				err := Wait(context.Background(), WaitSpec{
					What: "image ami-1 available", Timeout: 10 * time.Minute, Grace: tt.grace,
					Check: script(tt.states, &times),
				})
				if tt.wantErr == nil && err != nil {
					t.Fatalf("Wait: %v", err)
				}
				for _, want := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				if tt.calls != 0 && len(times) != tt.calls {
					t.Errorf("Check called %d times, want %d", len(times), tt.calls)
				}
			})
		})
	}
}

func TestWaitTimeoutError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var times []time.Duration
		err := Wait(context.Background(), WaitSpec{What: "image ami-1 available", Timeout: time.Hour,
			Check: script([]string{"pending"}, &times)})
		var te *TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("err = %v, want *TimeoutError", err)
		}
		if te.Waited != time.Hour || te.LastState != "pending" || te.Checks != len(times) {
			t.Errorf("TimeoutError = %+v, %d checks made", te, len(times))
		}
	})
}

func TestWaitPollsFastThenBacksOffToCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var times []time.Duration
		_ = Wait(context.Background(), WaitSpec{What: "x", Timeout: 5 * time.Minute,
			Check: script([]string{"pending"}, &times)})
		if times[0] != 0 || times[1] != DefaultFirstDelay {
			t.Errorf("first checks at %v, want 0 and %v", times[:2], DefaultFirstDelay)
		}
		prev := time.Duration(0)
		for i := 1; i < len(times); i++ {
			gap := times[i] - times[i-1]
			if gap < prev || gap > DefaultMaxDelay {
				t.Fatalf("gap %d is %v after %v: want non-decreasing, at most %v", i, gap, prev, DefaultMaxDelay)
			}
			prev = gap
		}
		if prev != DefaultMaxDelay {
			t.Errorf("gaps settle at %v, want %v", prev, DefaultMaxDelay)
		}
	})
}

func TestWaitNoticesReadinessWithinMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		readyAt := 65*time.Second + 300*time.Millisecond
		start := time.Now()
		err := Wait(context.Background(), WaitSpec{What: "x", Timeout: time.Hour,
			Check: func(context.Context) (bool, string, error) {
				return time.Since(start) >= readyAt, "pending", nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if late := time.Since(start) - readyAt; late > DefaultMaxDelay {
			t.Errorf("readiness noticed %v late, want at most %v", late, DefaultMaxDelay)
		}
	})
}

func TestWaitCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Second, cancel)
		var times []time.Duration
		start := time.Now()
		err := Wait(ctx, WaitSpec{What: "instance i-1 running", Timeout: time.Hour,
			Check: script([]string{"pending"}, &times)})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if time.Since(start) != 30*time.Second {
			t.Errorf("Wait returned %v after start, want at the cancel (30s)", time.Since(start))
		}
		for _, want := range []string{"wait for instance i-1 running", "last state: pending"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	})
}

func TestWaitParentDeadlineIsNotATimeoutError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var times []time.Duration
		err := Wait(ctx, WaitSpec{What: "x", Timeout: time.Hour, Check: script([]string{"pending"}, &times)})
		var te *TimeoutError
		if errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the caller's context.DeadlineExceeded", err)
		}
	})
}

package lease

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

const fp = "3f2a9c"

func TestSecondWaitsUntilRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFake()
		a, err := Acquire(ctx, f, "us-east-1", fp, "runner-a", time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		var polls []Holder
		var b *Lease
		done := make(chan error)
		go func() {
			var err error
			b, err = Acquire(ctx, f, "us-east-1", fp, "runner-b", time.Hour, func(h Holder) { polls = append(polls, h) })
			done <- err
		}()
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if b != nil || len(polls) == 0 || polls[0].Holder != "runner-a" || polls[0].RunID != a.RunID() {
			t.Fatalf("while a holds it: b=%v polls=%v", b, polls)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited > maxPoll {
			t.Errorf("b took the released lease after %s, want at most %s", waited, maxPoll)
		}
		if v, _ := f.value(Prefix + fp); !strings.Contains(v, `"holder":"runner-b"`) {
			t.Errorf("lease value %s, want runner-b's", v)
		}
	})
}

func TestWaitCancelledSaysWhoHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		if _, err := Acquire(context.Background(), f, "eu-west-1", fp, "runner-a", time.Hour, nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := Acquire(ctx, f, "eu-west-1", fp, "runner-b", time.Hour, nil)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "held by runner-a") || !strings.Contains(err.Error(), "eu-west-1") {
			t.Errorf("error %v, want a deadline naming runner-a and the region", err)
		}
	})
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFake()
		a, err := Acquire(ctx, f, "us-east-1", fp, "runner-a", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		b, err := Acquire(ctx, f, "us-east-1", fp, "runner-b", time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < time.Minute || waited > time.Minute+time.Second {
			t.Errorf("b took over after %s, want just after a's expiry (1m)", waited)
		}
		if err := a.Renew(ctx); !errors.Is(err, ErrLost) {
			t.Errorf("a.Renew after takeover: %v, want ErrLost", err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if v, ok := f.value(b.Name()); !ok || !strings.Contains(v, b.RunID()) {
			t.Errorf("a's Release touched b's lease: %q %v", v, ok)
		}
		if names := f.names(); len(names) != 1 {
			t.Errorf("parameters left: %v, want only the lease (markers deleted)", names)
		}
	})
}

func TestReleaseLeavesSomeoneElsesLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFake()
		a, err := Acquire(ctx, f, "us-east-1", fp, "runner-a", time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Someone overwrote it (an operator, or a takeover a skewed clock allowed).
		other := `{"holder":"runner-c","run_id":"c","expires":"2099-01-01T00:00:00Z"}`
		f.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(a.Name()), Value: aws.String(other), Overwrite: aws.Bool(true)})
		if err := a.Renew(ctx); !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "runner-c") {
			t.Errorf("Renew: %v, want ErrLost naming runner-c", err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.value(a.Name()); v != other {
			t.Errorf("Release deleted or changed runner-c's lease: %q", v)
		}
	})
}

func TestOneOfManyTakersWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		if _, err := Acquire(context.Background(), f, "us-east-1", fp, "dead", time.Minute, nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		var won []string
		var wg sync.WaitGroup
		for _, name := range []string{"r1", "r2", "r3", "r4", "r5"} {
			wg.Go(func() {
				if _, err := Acquire(ctx, f, "us-east-1", fp, name, time.Hour, nil); err == nil {
					mu.Lock()
					won = append(won, name)
					mu.Unlock()
				}
			})
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		cancel()
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("takers that got the lease: %v, want exactly one", won)
		}
		if v, _ := f.value(Prefix + fp); !strings.Contains(v, `"holder":"`+won[0]+`"`) {
			t.Errorf("lease value %s, want %s's", v, won[0])
		}
	})
}

func TestStaleMarkerNextGeneration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFake()
		a, err := Acquire(ctx, f, "us-east-1", fp, "dead", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A taker created the first marker for a's value, then died.
		observed, _ := f.value(a.Name())
		base := markerBase(a.Name(), observed)
		f.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(base + ".1"), Value: aws.String("dead-taker")})

		start := time.Now()
		b, err := Acquire(ctx, f, "us-east-1", fp, "runner-b", time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < takeoverGrace {
			t.Errorf("took over after %s, before the stale marker's grace %s", waited, takeoverGrace)
		}
		if !strings.Contains(f.calls[len(f.calls)-1], "Delete "+base+".2") {
			t.Errorf("last call %q, want the generation-2 marker deleted", f.calls[len(f.calls)-1])
		}
		if v, _ := f.value(b.Name()); !strings.Contains(v, b.RunID()) {
			t.Errorf("lease value %s, want b's", v)
		}
	})
}

func TestKeepAliveOutlivesTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFake()
		a, err := Acquire(ctx, f, "us-east-1", fp, "runner-a", 30*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		lost := a.KeepAlive(ctx)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if _, err := Acquire(wctx, f, "us-east-1", fp, "runner-b", time.Hour, nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("b: %v, want to wait out its deadline while a renews", err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if err, ok := <-lost; ok {
			t.Errorf("KeepAlive reported %v", err)
		}
		if _, ok := f.value(a.Name()); ok {
			t.Error("lease still there after Release")
		}
	})
}

func TestKeepAliveReportsLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFake()
		a, err := Acquire(ctx, f, "us-east-1", fp, "runner-a", 30*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		lost := a.KeepAlive(ctx)
		f.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(a.Name())})
		if err := <-lost; !errors.Is(err, ErrLost) {
			t.Errorf("lost: %v, want ErrLost", err)
		}
		if err := a.Release(ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestUnreadableValueExpiresByDate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		f := newFake()
		f.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(Prefix + fp), Value: aws.String("by hand"), Type: types.ParameterTypeString})
		var polls []Holder
		start := time.Now()
		if _, err := Acquire(ctx, f, "us-east-1", fp, "runner-b", time.Minute, func(h Holder) { polls = append(polls, h) }); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) < time.Minute || len(polls) == 0 || polls[0].Holder != "unknown" {
			t.Errorf("took it after %s, polls %v; want after a ttl, held by unknown", time.Since(start), polls)
		}
	})
}

func TestAcquireRefusesBadInput(t *testing.T) {
	f := newFake()
	for _, tt := range []struct {
		fp   string
		ttl  time.Duration
		want string
	}{
		{"a/b", time.Minute, "not usable"},
		{"", time.Minute, "not usable"},
		{fp, time.Millisecond, "too short"},
	} {
		if _, err := Acquire(context.Background(), f, "us-east-1", tt.fp, "r", tt.ttl, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Acquire(%q, %s): %v, want %q", tt.fp, tt.ttl, err, tt.want)
		}
	}
}

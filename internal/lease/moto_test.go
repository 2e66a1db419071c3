package lease

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestMotoTwoRunners runs two runners with separate clients against moto:
// the second waits until the first releases, an expired lease is taken
// over, and the first's Release leaves the second's lease alone.
func TestMotoTwoRunners(t *testing.T) {
	url := testenv.PlainMoto(t)
	client := func() *ssm.Client { return ssm.NewFromConfig(testenv.AWSConfig(url, "us-east-1")) }
	ca, cb := client(), client()
	ctx := context.Background()
	defer func(old time.Duration) { minPoll = old }(minPoll)
	minPoll = 200 * time.Millisecond

	t.Run("waits for release", func(t *testing.T) {
		a, err := Acquire(ctx, ca, "us-east-1", "fp-wait", "runner-a", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		polled := make(chan Holder, 100)
		type result struct {
			l   *Lease
			err error
			at  time.Time
		}
		got := make(chan result)
		go func() {
			l, err := Acquire(ctx, cb, "us-east-1", "fp-wait", "runner-b", time.Minute, func(h Holder) { polled <- h })
			got <- result{l, err, time.Now()}
		}()
		if h := <-polled; h.Holder != "runner-a" {
			t.Errorf("b saw the lease held by %v, want runner-a", h)
		}
		time.Sleep(500 * time.Millisecond)
		released := time.Now()
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		r := <-got
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.at.Before(released) {
			t.Error("b got the lease before a released it")
		}
		if err := r.l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := ca.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(Prefix + "fp-wait")}); err == nil {
			t.Error("lease still there after both released")
		}
	})

	t.Run("expired taken over", func(t *testing.T) {
		a, err := Acquire(ctx, ca, "us-east-1", "fp-expire", "runner-a", time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		b, err := Acquire(ctx, cb, "us-east-1", "fp-expire", "runner-b", time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < 900*time.Millisecond {
			t.Errorf("b took over after %s, before a's lease expired", waited)
		}
		if err := a.Renew(ctx); !errors.Is(err, ErrLost) {
			t.Errorf("a.Renew: %v, want ErrLost", err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		out, err := cb.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(b.Name())})
		if err != nil || !strings.Contains(aws.ToString(out.Parameter.Value), b.RunID()) {
			t.Fatalf("after a's Release the lease is %v, %v; want b's", out, err)
		}
		if err := b.Renew(ctx); err != nil {
			t.Errorf("b.Renew: %v", err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatal(err)
		}
		left, err := ca.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/imgbuild/lease"), Recursive: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range left.Parameters {
			t.Errorf("left behind: %s", aws.ToString(p.Name))
		}
	})
}

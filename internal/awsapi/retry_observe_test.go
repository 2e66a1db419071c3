package awsapi

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"
)

func TestRetriesAreReportedBeforeTheirDelay(t *testing.T) {
	isolateEnv(t)
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		throttle := fail(503, "RequestLimitExceeded", "Request limit exceeded.")
		f.on("DescribeImages", throttle, throttle, throttle, throttle, throttle, throttle, ok(describeImages("ami-1", "available")))
		var events []RetryEvent
		var reportedAt []time.Duration
		start := time.Now()
		s := inProcessSession(t, f, testAccess(), WithRetryObserver(func(e RetryEvent) {
			events = append(events, e)
			reportedAt = append(reportedAt, time.Since(start))
		}))
		if _, err := s.EC2("").DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{"ami-1"}}); err != nil {
			t.Fatal(err)
		}
		// Six throttled attempts; the later delays (up to 4s, 8s, 16s, 20s)
		// are almost surely longer than RetryNotifyAfter.
		if len(events) == 0 {
			t.Fatal("no retry reported")
		}
		var slept time.Duration
		for i, e := range events {
			if e.Service != "EC2" || e.Action != "DescribeImages" || e.Region != "eu-west-1" ||
				e.Reason != "RequestLimitExceeded" || e.MaxAttempts != DefaultMaxRetries {
				t.Errorf("event %+v", e)
			}
			if e.Delay <= RetryNotifyAfter || e.Delay > backoffCeiling(e.Attempt, true) {
				t.Errorf("attempt %d reported with delay %v", e.Attempt, e.Delay)
			}
			if e.GiveUpWithin <= e.Delay {
				t.Errorf("attempt %d: gives up within %v, not after the delay %v", e.Attempt, e.GiveUpWithin, e.Delay)
			}
			if i > 0 && e.Attempt <= events[i-1].Attempt {
				t.Errorf("attempts reported out of order: %+v", events)
			}
			slept += e.Delay
		}
		if elapsed := time.Since(start); elapsed < slept {
			t.Errorf("call took %v, less than the reported delays (%v): were they reported after the wait?", elapsed, slept)
		}
		// Reported before the delay: the next attempt comes Delay later.
		last := events[len(events)-1]
		if got := time.Since(start) - reportedAt[len(reportedAt)-1]; last.Attempt == 6 && got != last.Delay {
			t.Errorf("last retry reported %v before the call ended, want its delay %v", got, last.Delay)
		}
		if !strings.Contains(last.String(), "EC2 DescribeImages in eu-west-1 failed (RequestLimitExceeded); attempt ") {
			t.Errorf("String() = %q", last.String())
		}
	})
}

// fixedRetryer retries everything with fixed delays per attempt.
type fixedRetryer struct {
	aws.RetryerV2
	delays map[int]time.Duration
}

func (r fixedRetryer) RetryDelay(attempt int, _ error) (time.Duration, error) {
	return r.delays[attempt], nil
}

func TestOnlySlowRetriesAreNotified(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []RetryEvent
		inner := fixedRetryer{RetryerV2: newRetryer(4).(aws.RetryerV2),
			delays: map[int]time.Duration{1: 300 * time.Millisecond, 2: 3 * time.Second}}
		r := observeRetries(inner, func(e RetryEvent) { events = append(events, e) }, hclog.NewNullLogger())
		st := &callState{}
		ctx := middleware.WithStackValue(context.Background(), callStateKey{}, st)
		ctx = awsmiddleware.SetServiceID(awsmiddleware.SetRegion(ctx, "us-east-1"), "EC2")
		ctx = awsmiddleware.SetOperationName(ctx, "CopyImage")
		start := time.Now()
		for range 2 {
			if _, err := r.GetAttemptToken(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := r.GetRetryToken(ctx, apiErr("InternalError")); err != nil {
				t.Fatal(err)
			}
			if d, _ := r.RetryDelay(st.attempts, nil); d != 0 {
				t.Errorf("RetryDelay = %v after GetRetryToken waited", d)
			}
		}
		if time.Since(start) != 3300*time.Millisecond {
			t.Errorf("waited %v, want the two delays (3.3s)", time.Since(start))
		}
		want := "EC2 CopyImage in us-east-1 failed (InternalError); attempt 3 of 4 in 3s, trying for at most 4s more"
		if len(events) != 1 || events[0].String() != want {
			t.Errorf("events %v, want one: %q", events, want)
		}
	})
}

func TestRetryWaitEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := fixedRetryer{RetryerV2: newRetryer(4).(aws.RetryerV2), delays: map[int]time.Duration{1: time.Minute}}
		r := observeRetries(inner, nil, hclog.NewNullLogger())
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := r.GetRetryToken(ctx, apiErr("InternalError"))
		var canceled *aws.RequestCanceledError
		if !errors.As(err, &canceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want a RequestCanceledError for the deadline", err)
		}
	})
}

func TestTraceLogsEveryRequest(t *testing.T) {
	isolateEnv(t)
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.on("DescribeImages", fail(500, "InternalError", "oops"), ok(describeImages("ami-1", "available")))
		f.on("CreateTags", fail(400, "InvalidParameterValue", "bad tag"))
		var buf bytes.Buffer
		log := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &buf})
		s := inProcessSession(t, f, testAccess(), WithLogger(log))
		ctx := context.Background()
		if _, err := s.EC2("us-east-1").DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-1"}}); err != nil {
			t.Fatal(err)
		}
		_, _ = s.EC2("").CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"ami-1"},
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		out := buf.String()
		for _, want := range []string{
			"[TRACE] aws request: service=EC2 action=DescribeImages region=us-east-1 duration=",
			"attempts=2 code=\"\"",
			"[TRACE] aws request: service=EC2 action=CreateTags region=eu-west-1 duration=",
			"attempts=1 code=InvalidParameterValue",
			"[DEBUG] aws request retry: service=EC2 action=DescribeImages region=us-east-1 attempt=1 reason=InternalError",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
	})
}

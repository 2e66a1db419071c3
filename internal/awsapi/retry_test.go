package awsapi

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestRetryer(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name      string
		replies   []reply
		wantErr   string // "" for success
		calls     int
		throttled int64
	}{
		{
			name: "throttle and 5xx are retried",
			replies: []reply{
				fail(503, "RequestLimitExceeded", "Request limit exceeded."),
				fail(500, "InternalError", "An internal error has occurred."),
				ok(describeImages("ami-1", "available")),
			},
			calls: 3, throttled: 1,
		},
		{
			name:    "400 is not retried",
			replies: []reply{fail(400, "InvalidParameterValue", "bad"), ok(describeImages("ami-1", "available"))},
			wantErr: "InvalidParameterValue", calls: 1,
		},
		{
			name:    "NotFound is not retried without opt-in",
			replies: []reply{fail(400, "InvalidAMIID.NotFound", "no such image"), ok(describeImages("ami-1", "available"))},
			wantErr: "InvalidAMIID.NotFound", calls: 1,
		},
		{
			name:    "attempts stop at MaxRetries",
			replies: []reply{fail(503, "RequestLimitExceeded", "Request limit exceeded.")},
			wantErr: "RequestLimitExceeded", calls: DefaultMaxRetries, throttled: DefaultMaxRetries,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				f.on("DescribeImages", tt.replies...)
				s := inProcessSession(t, f, testAccess())
				_, err := s.EC2("").DescribeImages(context.Background(),
					&ec2.DescribeImagesInput{ImageIds: []string{"ami-1"}})
				if got := ErrorCode(err); got != tt.wantErr {
					t.Errorf("error code = %q (%v), want %q", got, err, tt.wantErr)
				}
				if n := len(f.callsTo("DescribeImages")); n != tt.calls {
					t.Errorf("DescribeImages sent %d times, want %d", n, tt.calls)
				}
				c := s.Limiter().CountsFor("EC2", "eu-west-1", "DescribeImages")
				if c.Requests != int64(tt.calls) || c.Throttled != tt.throttled {
					t.Errorf("counts = %+v, want %d requests, %d throttled", c, tt.calls, tt.throttled)
				}
			})
		})
	}
}

func TestMaxRetriesFromAccess(t *testing.T) {
	isolateEnv(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "240") // Packer users set this for waits; it must not apply
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.on("DescribeImages", fail(503, "RequestLimitExceeded", "slow down"))
		a := testAccess()
		a.MaxRetries = 3
		s := inProcessSession(t, f, a)
		_, err := s.EC2("").DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
		if !IsThrottle(err) {
			t.Fatalf("err = %v, want a throttling error", err)
		}
		if n := len(f.callsTo("DescribeImages")); n != 3 {
			t.Errorf("DescribeImages sent %d times, want 3", n)
		}
	})
}

func TestRetryEventualOptIn(t *testing.T) {
	isolateEnv(t)
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		s := inProcessSession(t, f, testAccess())
		in := &ec2.CreateTagsInput{Resources: []string{"ami-1"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}
		notFound := fail(400, "InvalidAMIID.NotFound", "The image id '[ami-1]' does not exist")

		f.on("CreateTags", notFound, ok(createTagsOK))
		if _, err := s.EC2("").CreateTags(context.Background(), in); !IsNotFound(err) {
			t.Errorf("without RetryEventual: err = %v, want NotFound at once", err)
		}
		f.on("CreateTags", notFound, notFound, ok(createTagsOK))
		if _, err := s.EC2("").CreateTags(context.Background(), in, RetryEventual); err != nil {
			t.Errorf("with RetryEventual: %v", err)
		}
		if n := len(f.callsTo("CreateTags")); n != 4 {
			t.Errorf("CreateTags sent %d times, want 1 + 3", n)
		}
	})
}

func TestBackoffIsCappedAndThrottleAware(t *testing.T) {
	b := newRetryer(0)
	throttle := apiErr("RequestLimitExceeded")
	other := apiErr("InternalError")
	for attempt := 1; attempt < 40; attempt++ {
		for _, err := range []error{throttle, other} {
			d, _ := b.RetryDelay(attempt, err)
			if d <= 0 || d > MaxBackoff {
				t.Fatalf("attempt %d: delay %v outside (0, %v]", attempt, d, MaxBackoff)
			}
		}
	}
	// Throttles back off from a longer base: the first retry of a throttle
	// may wait up to 1 s, of another error up to 200 ms.
	var maxThrottle, maxOther time.Duration
	for range 200 {
		d, _ := b.RetryDelay(1, throttle)
		maxThrottle = max(maxThrottle, d)
		d, _ = b.RetryDelay(1, other)
		maxOther = max(maxOther, d)
	}
	if maxOther > 200*time.Millisecond || maxThrottle <= 200*time.Millisecond {
		t.Errorf("first retry delays: throttle up to %v, other up to %v", maxThrottle, maxOther)
	}
	if got := b.MaxAttempts(); got != DefaultMaxRetries {
		t.Errorf("MaxAttempts = %d, want %d", got, DefaultMaxRetries)
	}
}

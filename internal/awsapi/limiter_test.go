package awsapi

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/time/rate"
)

func TestEC2Bucket(t *testing.T) {
	tests := []struct {
		action     string
		unfiltered bool
		burst      int
		refill     rate.Limit
	}{
		{"DescribeImages", false, 100, 20},
		{"DescribeImages", true, 100, 20}, // not in the unfiltered list
		{"DescribeInstances", false, 100, 20},
		{"DescribeInstances", true, 50, 10},
		{"DescribeSnapshots", true, 50, 10},
		{"GetConsoleOutput", false, 100, 20},
		{"CreateImage", false, 50, 5},
		{"StopInstances", false, 50, 5},
		{"EnableImageDeprecation", false, 50, 5},
		{"CopyImage", false, 100, 1},
		{"CreateTags", false, 100, 10},
		{"DeleteTags", false, 100, 10},
		{"DeregisterImage", false, 100, 5},
		{"ModifyImageAttribute", false, 100, 5},
		{"ModifySnapshotAttribute", false, 100, 5},
		{"DeleteSnapshot", false, 100, 5},
		{"CreateSnapshot", false, 100, 5},
		{"TerminateInstances", false, 100, 5},
		{"RunInstances", false, 5, 2},
		{"StartInstances", false, 5, 2},
		{"CreateKeyPair", false, 50, 5},
		{"AuthorizeSecurityGroupIngress", false, 50, 5},
		{"RevokeSecurityGroupIngress", false, 50, 5},
		{"CreateStoreImageTask", false, 50, 0.1},
	}
	for _, tt := range tests {
		b := EC2Bucket(tt.action, tt.unfiltered)
		if b.Burst != tt.burst || b.Refill != tt.refill {
			t.Errorf("EC2Bucket(%s, unfiltered=%v) = %d/%v, want %d/%v",
				tt.action, tt.unfiltered, b.Burst, b.Refill, tt.burst, tt.refill)
		}
	}
}

func TestUnfilteredDescribe(t *testing.T) {
	tests := []struct {
		name   string
		params any
		want   bool
	}{
		{"no ids no filters", &ec2.DescribeInstancesInput{}, true},
		{"by id", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1"}}, false},
		{"filtered", &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:run")}}}, false},
		{"paginated", &ec2.DescribeVolumesInput{MaxResults: aws.Int32(100)}, false},
		{"security groups by name", &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"g"}}, false},
		{"unfiltered snapshots", &ec2.DescribeSnapshotsInput{}, true},
		{"images are never in the small bucket", &ec2.DescribeImagesInput{}, false},
	}
	for _, tt := range tests {
		if got := unfilteredDescribe(tt.params); got != tt.want {
			t.Errorf("%s: unfilteredDescribe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// elapsed returns how much (bubble) time fn took.
func elapsed(fn func()) time.Duration {
	start := time.Now()
	fn()
	return time.Since(start)
}

func TestLimiterBucketsPerActionAndRegion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter()
		ctx := context.Background()
		wait := func(region, action string) time.Duration {
			service := "EC2"
			if action == "GetParameter" {
				service = "SSM"
			}
			return elapsed(func() {
				if err := l.Wait(ctx, service, region, action, false); err != nil {
					t.Fatal(err)
				}
			})
		}
		for range 5 { // RunInstances burst
			if d := wait("eu-west-1", "RunInstances"); d != 0 {
				t.Fatalf("RunInstances within burst waited %v", d)
			}
		}
		if d := wait("eu-west-1", "RunInstances"); d < 400*time.Millisecond {
			t.Errorf("6th RunInstances in eu-west-1 waited %v, want about 500ms (2/s refill)", d)
		}
		if d := wait("us-east-1", "RunInstances"); d != 0 {
			t.Errorf("RunInstances in us-east-1 waited %v: regions must not share buckets", d)
		}
		if d := wait("eu-west-1", "StartInstances"); d != 0 {
			t.Errorf("StartInstances waited %v: actions must not share buckets", d)
		}
		if d := wait("eu-west-1", "DescribeImages"); d != 0 {
			t.Errorf("DescribeImages waited %v", d)
		}
		for range 1000 { // other services are not limited
			if d := wait("eu-west-1", "GetParameter"); d != 0 {
				t.Fatalf("unlimited action waited %v", d)
			}
		}
		if c := l.CountsFor("EC2", "eu-west-1", "RunInstances"); c.Requests != 6 || c.Waited == 0 {
			t.Errorf("RunInstances counts = %+v", c)
		}
	})
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter()
		for range 100 {
			_ = l.Wait(context.Background(), "EC2", "eu-west-1", "CopyImage", false)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := l.Wait(ctx, "EC2", "eu-west-1", "CopyImage", false); err == nil {
			t.Fatal("CopyImage beyond its burst got a token within 100ms (refill is 1/s)")
		}
	})
}

func TestLimiterSharedAcrossSessions(t *testing.T) {
	isolateEnv(t)
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.on("DescribeImages", ok(describeImages("ami-1", "available")))
		shared := NewLimiter()
		a := inProcessSession(t, f, testAccess(), WithLimiter(shared))
		b := inProcessSession(t, f, testAccess(), WithLimiter(shared))
		in := &ec2.DescribeImagesInput{ImageIds: []string{"ami-1"}}
		for range 100 { // the whole DescribeImages burst, through session a
			if _, err := a.EC2("eu-west-1").DescribeImages(context.Background(), in); err != nil {
				t.Fatal(err)
			}
		}
		d := elapsed(func() {
			if _, err := b.EC2("eu-west-1").DescribeImages(context.Background(), in); err != nil {
				t.Fatal(err)
			}
		})
		if d < 40*time.Millisecond {
			t.Errorf("session b's call waited %v, want about 50ms: it must share a's bucket", d)
		}
		if c := shared.CountsFor("EC2", "eu-west-1", "DescribeImages"); c.Requests != 101 {
			t.Errorf("shared limiter counted %d DescribeImages, want 101", c.Requests)
		}
	})
}

func TestSessionsShareProcessLimiterByDefault(t *testing.T) {
	isolateEnv(t)
	f := newFake()
	a := testAccess()
	a.SkipCredentialValidation = true
	s1, err1 := NewSession(context.Background(), a, WithHTTPClient(handlerClient{f}))
	s2, err2 := NewSession(context.Background(), a, WithHTTPClient(handlerClient{f}))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if s1.Limiter() != ProcessLimiter() || s2.Limiter() != ProcessLimiter() {
		t.Error("sessions without WithLimiter do not use ProcessLimiter")
	}
}

func TestUnfilteredDescribeUsesSmallBucket(t *testing.T) {
	isolateEnv(t)
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.on("DescribeInstances", ok(`<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>`))
		s := inProcessSession(t, f, testAccess())
		ctx := context.Background()
		c := s.EC2("")
		for range 50 {
			_, _ = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		}
		if d := elapsed(func() { _, _ = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}) }); d == 0 {
			t.Error("51st unfiltered DescribeInstances did not wait (bucket 50/10)")
		}
		byID := &ec2.DescribeInstancesInput{InstanceIds: []string{"i-1"}}
		if d := elapsed(func() { _, _ = c.DescribeInstances(ctx, byID) }); d != 0 {
			t.Errorf("DescribeInstances by ID waited %v: it has its own 100/20 bucket", d)
		}
	})
}

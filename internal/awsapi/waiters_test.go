package awsapi

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fakeDescriber replays one scripted answer per Describe call, repeating
// the last. An answer is a state, "notfound", or "empty" (no error, no item).
type fakeDescriber struct {
	answers []string
	reason  *types.StateReason
	calls   int
}

// filterID returns the one ID a batched Describe asks for.
func filterID(fs []types.Filter) string { return fs[0].Values[0] }

func (f *fakeDescriber) next() string {
	f.calls++
	return f.answers[min(f.calls, len(f.answers))-1]
}

func (f *fakeDescriber) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	switch a := f.next(); a {
	case "notfound":
		return nil, apiErr("InvalidAMIID.NotFound")
	case "empty":
		return &ec2.DescribeImagesOutput{}, nil
	default:
		return &ec2.DescribeImagesOutput{Images: []types.Image{{
			ImageId: aws.String(filterID(in.Filters)), State: types.ImageState(a), StateReason: f.reason}}}, nil
	}
}

func (f *fakeDescriber) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	switch a := f.next(); a {
	case "notfound":
		return nil, apiErr("InvalidInstanceID.NotFound")
	case "empty":
		return &ec2.DescribeInstancesOutput{}, nil
	default:
		inst := types.Instance{InstanceId: aws.String(filterID(in.Filters)), StateReason: f.reason,
			State: &types.InstanceState{Name: types.InstanceStateName(a)}, PublicIpAddress: aws.String("192.0.2.1")}
		return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{{Instances: []types.Instance{inst}}}}, nil
	}
}

func (f *fakeDescriber) DescribeSnapshots(_ context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	switch a := f.next(); a {
	case "notfound":
		return nil, apiErr("InvalidSnapshot.NotFound")
	default:
		return &ec2.DescribeSnapshotsOutput{Snapshots: []types.Snapshot{{SnapshotId: aws.String(filterID(in.Filters)),
			State: types.SnapshotState(a), Progress: aws.String("50%"), StateMessage: aws.String("disk on fire")}}}, nil
	}
}

func TestTypedWaiters(t *testing.T) {
	capacity := &types.StateReason{Code: aws.String("Server.InsufficientInstanceCapacity"),
		Message: aws.String("Insufficient capacity.")}
	badSnap := &types.StateReason{Code: aws.String("Client.InvalidSnapshot.NotFound"),
		Message: aws.String("The snapshot snap-1 does not exist.")}
	tests := []struct {
		name    string
		answers []string
		reason  *types.StateReason
		run     func(Waiter) error
		wantErr []string
		calls   int
	}{
		{"image pending then available", []string{"pending", "pending", "available"}, nil,
			func(w Waiter) error { _, err := w.ImageAvailable(context.Background(), "ami-1"); return err }, nil, 3},
		{"image not visible yet, then available", []string{"notfound", "empty", "available"}, nil,
			func(w Waiter) error { _, err := w.ImageAvailable(context.Background(), "ami-1"); return err }, nil, 3},
		{"image failed quotes StateReason", []string{"pending", "failed", "available"}, badSnap,
			func(w Waiter) error { _, err := w.ImageAvailable(context.Background(), "ami-1"); return err },
			[]string{"wait for image ami-1 in eu-west-1 available: image ami-1 is failed: " +
				"Client.InvalidSnapshot.NotFound: The snapshot snap-1 does not exist."}, 2},
		{"copy times out after CopyAvailable", []string{"pending"}, nil,
			func(w Waiter) error { _, err := w.CopyAvailable(context.Background(), "ami-2"); return err },
			[]string{"wait for image ami-2 in eu-west-1 available: timed out after 1h30m0s", "last state: pending"}, 0},
		{"instance running", []string{"notfound", "pending", "running"}, nil,
			func(w Waiter) error {
				inst, err := w.InstanceRunning(context.Background(), "i-1")
				if err == nil && aws.ToString(inst.PublicIpAddress) != "192.0.2.1" {
					t.Errorf("InstanceRunning returned %+v", inst)
				}
				return err
			}, nil, 3},
		{"instance terminated while launching", []string{"pending", "terminated"}, capacity,
			func(w Waiter) error { _, err := w.InstanceRunning(context.Background(), "i-1"); return err },
			[]string{"instance i-1 is terminated, not running: Server.InsufficientInstanceCapacity: Insufficient capacity."}, 2},
		{"instance stopped", []string{"running", "stopping", "stopped"}, nil,
			func(w Waiter) error { _, err := w.InstanceStopped(context.Background(), "i-1"); return err }, nil, 3},
		{"instance stop timeout is 20m by default", []string{"stopping"}, nil,
			func(w Waiter) error { _, err := w.InstanceStopped(context.Background(), "i-1"); return err },
			[]string{"timed out after 20m0s", "last state: stopping"}, 0},
		{"terminated instance gone from describe", []string{"shutting-down", "notfound"}, nil,
			func(w Waiter) error { return w.InstanceTerminated(context.Background(), "i-1") }, nil, 2},
		{"snapshot completed", []string{"pending", "completed"}, nil,
			func(w Waiter) error { _, err := w.SnapshotCompleted(context.Background(), "snap-1"); return err }, nil, 2},
		{"snapshot error", []string{"pending", "error"}, nil,
			func(w Waiter) error { _, err := w.SnapshotCompleted(context.Background(), "snap-1"); return err },
			[]string{"snapshot snap-1 is error: disk on fire"}, 2},
		{"snapshot timeout shows progress", []string{"pending"}, nil,
			func(w Waiter) error { _, err := w.SnapshotCompleted(context.Background(), "snap-1"); return err },
			[]string{"last state: pending 50%"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeDescriber{answers: tt.answers, reason: tt.reason}
				err := tt.run(Waiter{Client: f, Region: "eu-west-1"})
				if tt.wantErr == nil && err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				for _, want := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				if tt.calls != 0 && f.calls != tt.calls {
					t.Errorf("%d Describe calls, want %d", f.calls, tt.calls)
				}
			})
		})
	}
}

func TestWaiterUsesTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeDescriber{answers: []string{"pending"}}
		w := Waiter{Client: f, Region: "eu-west-1", Timeouts: Timeouts{ImageAvailable: 3 * time.Minute, MaxPollDelay: 10 * time.Second}}
		start := time.Now()
		_, err := w.ImageAvailable(context.Background(), "ami-1")
		if d := time.Since(start); d != 3*time.Minute || err == nil {
			t.Errorf("wait ended after %v with %v, want a timeout at 3m", d, err)
		}
		// 3 minutes at a 10s cap is far fewer checks than at the 2s default.
		if f.calls > 30 {
			t.Errorf("%d checks in 3m with MaxPollDelay 10s", f.calls)
		}
	})
}

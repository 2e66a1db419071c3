package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// EC2Describer is the part of *ec2.Client that Waiter uses.
type EC2Describer interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
}

// Waiter waits for EC2 resources in one region, polling by ID (so every
// Describe is filtered and charged to the large bucket) with Wait.
type Waiter struct {
	Client EC2Describer
	// Region names the region in errors.
	Region string
	// Timeouts bound each wait; zero fields take DefaultTimeouts.
	Timeouts Timeouts
}

// NewWaiter returns a Waiter on c's region with timeouts t.
func NewWaiter(c *ec2.Client, t Timeouts) Waiter {
	return Waiter{Client: c, Region: c.Options().Region, Timeouts: t}
}

// outcome is what a waiter makes of one observed state; the zero value,
// for states a table does not list, is failure.
type outcome int

const (
	failure outcome = iota
	pending
	success
)

// wait runs Wait for "<what> in <region> <want>", e.g.
// "image ami-123 in eu-west-1 available".
func (w Waiter) wait(ctx context.Context, what, want string, timeout time.Duration,
	check func(context.Context) (bool, string, error)) error {
	t := w.Timeouts.withDefaults()
	return Wait(ctx, WaitSpec{
		What:     what + " in " + w.Region + " " + want,
		Timeout:  timeout,
		Grace:    t.NotFoundGrace,
		MaxDelay: t.MaxPollDelay,
		Check:    check,
	})
}

// notVisible is the NotFound error for an ID missing from a Describe
// response that did not fail.
func notVisible(code, id string) error {
	return &smithy.GenericAPIError{Code: code, Message: id + " is not in the describe response"}
}

// reason formats a StateReason as "Code: Message".
func reason(r *types.StateReason) string {
	if r == nil {
		return "no state reason given"
	}
	return aws.ToString(r.Code) + ": " + aws.ToString(r.Message)
}

// ImageAvailable waits until image id is available and returns it. A
// failed, error, invalid, deregistered or disabled image ends the wait at
// once with its StateReason.
func (w Waiter) ImageAvailable(ctx context.Context, id string) (types.Image, error) {
	return w.image(ctx, id, w.Timeouts.withDefaults().ImageAvailable)
}

// CopyAvailable is ImageAvailable for the target of a CopyImage, bounded by
// Timeouts.CopyAvailable.
func (w Waiter) CopyAvailable(ctx context.Context, id string) (types.Image, error) {
	return w.image(ctx, id, w.Timeouts.withDefaults().CopyAvailable)
}

func (w Waiter) image(ctx context.Context, id string, timeout time.Duration) (types.Image, error) {
	var img types.Image
	err := w.wait(ctx, "image "+id, "available", timeout, func(ctx context.Context) (bool, string, error) {
		out, err := w.Client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if err != nil {
			return false, "", err
		}
		if len(out.Images) == 0 {
			return false, "", notVisible("InvalidAMIID.NotFound", id)
		}
		img = out.Images[0]
		state := string(img.State)
		switch img.State {
		case types.ImageStateAvailable:
			return true, state, nil
		case types.ImageStatePending, types.ImageStateTransient:
			return false, state, nil
		}
		return false, state, fmt.Errorf("image %s is %s: %s", id, state, reason(img.StateReason))
	})
	return img, err
}

// SnapshotCompleted waits until snapshot id is completed and returns it. A
// snapshot in state error ends the wait at once with its StateMessage.
func (w Waiter) SnapshotCompleted(ctx context.Context, id string) (types.Snapshot, error) {
	var snap types.Snapshot
	timeout := w.Timeouts.withDefaults().SnapshotCompleted
	err := w.wait(ctx, "snapshot "+id, "completed", timeout, func(ctx context.Context) (bool, string, error) {
		out, err := w.Client.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
		if err != nil {
			return false, "", err
		}
		if len(out.Snapshots) == 0 {
			return false, "", notVisible("InvalidSnapshot.NotFound", id)
		}
		snap = out.Snapshots[0]
		state := string(snap.State)
		if p := aws.ToString(snap.Progress); p != "" {
			state += " " + p
		}
		switch snap.State {
		case types.SnapshotStateCompleted:
			return true, state, nil
		case types.SnapshotStatePending:
			return false, state, nil
		}
		return false, state, fmt.Errorf("snapshot %s is %s: %s", id, snap.State, aws.ToString(snap.StateMessage))
	})
	return snap, err
}

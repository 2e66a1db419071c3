package awsapi

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/imgbuild/imgbuild/internal/dag"
)

// EC2Describer is the part of *ec2.Client that Waiter uses.
type EC2Describer interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
}

// Waiter waits for EC2 resources in one region. Its waits are polled in
// batches (see WaitBatches): each tick one filtered Describe covers every
// pending ID of the region, whichever Waiter or build it belongs to, at the
// kind's Cadence. A wait holds no parallelism slot while it waits (see
// waiting).
type Waiter struct {
	Client EC2Describer
	// Region names the region in errors.
	Region string
	// Timeouts bound each wait; zero fields take DefaultTimeouts, except
	// MaxPollDelay: zero means each kind's Cadence, set it caps them.
	Timeouts Timeouts
	// Progress, when set, is called from ImageAvailable and CopyAvailable
	// with the image's completion in percent, as EC2 reports it for the
	// image's snapshots (weighted by volume size), whenever it changes;
	// 100 means available.
	Progress func(region, imageID string, pct int)
	// Snapshots, when set, is called from ImageAvailable and CopyAvailable
	// with the image's snapshot IDs as soon as a describe of the image
	// (pending or available) lists them, once per new set of IDs, before
	// the wait goes on: the caller journals them before the long wait.
	Snapshots func(region, imageID string, ids []string)
	// Batches runs the polls; nil means ProcessWaitBatches().
	Batches *WaitBatches
}

// NewWaiter returns a Waiter on c's region with timeouts t.
func NewWaiter(c *ec2.Client, t Timeouts) Waiter {
	return Waiter{Client: c, Region: c.Options().Region, Timeouts: t}
}

// waiting runs one wait; it lets the caller's scheduler know that fn only
// waits on AWS, so it holds no parallelism slot meanwhile.
var waiting = dag.Waiting

// outcome is what a waiter makes of one observed state; the zero value,
// for states a table does not list, is failure.
type outcome int

const (
	failure outcome = iota
	pending
	success
)

// await registers w with the batches and runs the wait for
// "<what> in <region> <want>" (e.g. "image ami-123 in eu-west-1
// available") on the observations the batcher delivers: check says what
// each means, with Wait's rules for timeouts and NotFound grace.
func (w Waiter) await(ctx context.Context, wt *watch, what, want string, timeout time.Duration,
	check func(observation) (bool, string, error)) error {
	spec := WaitSpec{
		What:    what + " in " + w.Region + " " + want,
		Timeout: timeout,
		Grace:   w.Timeouts.withDefaults().NotFoundGrace,
		Check: func(ctx context.Context) (bool, string, error) {
			select {
			case o := <-wt.out:
				return check(o)
			case <-ctx.Done():
				return false, "", ctx.Err()
			}
		},
	}
	return waiting(ctx, func(ctx context.Context) error {
		bs := w.Batches
		if bs == nil {
			bs = ProcessWaitBatches()
		}
		unregister, err := bs.register(ctx, w.Client, w.Region, wt)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", spec.What, err)
		}
		defer unregister()
		return run(ctx, spec, nil)
	})
}

// watch returns a new watch of id at c, capped by Timeouts.MaxPollDelay;
// with Timeouts.PollDelay (aws_polling delay_seconds) the checks come at
// that fixed interval instead, as in Packer.
func (w Waiter) watch(k kind, id string, c Cadence) *watch {
	if d := w.Timeouts.PollDelay; d > 0 {
		c = Cadence{First: min(c.First, d), Min: d, Max: d}
	}
	return newWatch(k, id, c.capped(w.Timeouts.MaxPollDelay))
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
func (w Waiter) ImageAvailable(ctx context.Context, id string) (Image, error) {
	return w.image(ctx, id, w.Timeouts.withDefaults().ImageAvailable)
}

// CopyAvailable is ImageAvailable for the target of a CopyImage, bounded by
// Timeouts.CopyAvailable.
func (w Waiter) CopyAvailable(ctx context.Context, id string) (Image, error) {
	return w.image(ctx, id, w.Timeouts.withDefaults().CopyAvailable)
}

// Image is an image as a wait last saw it, with the snapshots of its
// block device mappings that the same tick described (a wait with
// Progress describes them; nil otherwise), so that a caller checking the
// snapshots needs no describe of its own.
type Image struct {
	types.Image
	Snapshots []types.Snapshot
}

func (w Waiter) image(ctx context.Context, id string, timeout time.Duration) (Image, error) {
	var img Image
	wt := w.watch(kindImage, id, ImageCadence)
	wt.progress = w.Progress != nil
	last, known := -1, 0
	err := w.await(ctx, wt, "image "+id, "available", timeout, func(o observation) (bool, string, error) {
		if o.err != nil {
			return false, "", o.err
		}
		if !o.found {
			return false, "", notVisible("InvalidAMIID.NotFound", id)
		}
		img = Image{Image: o.image, Snapshots: o.snapshots}
		w.report(id, &last, img.Image, o.snapshots)
		w.snapshotsSeen(id, &known, img.Image)
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
	wt := w.watch(kindSnapshot, id, SnapshotCadence)
	err := w.await(ctx, wt, "snapshot "+id, "completed", timeout, func(o observation) (bool, string, error) {
		if o.err != nil {
			return false, "", o.err
		}
		if !o.found {
			return false, "", notVisible("InvalidSnapshot.NotFound", id)
		}
		snap = o.snapshot
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

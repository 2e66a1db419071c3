package awsapi

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fleetFake is a concurrency-safe EC2Describer whose resources change
// state with the time since it was made: each is invisible until
// visible, then pending (or another transitional state) until ready, then
// final. It answers filtered Describes as EC2 does: only what exists.
type fleetFake struct {
	mu    sync.Mutex
	start time.Time
	res   map[string]*fakeRes
	calls map[string][]int // action -> the number of IDs of each call
}

type fakeRes struct {
	visible, ready time.Duration
	pending, final string
	reason         *types.StateReason
	snapshots      []string // an image's snapshots
	size           int32    // a snapshot's volume size
}

func newFleet() *fleetFake {
	return &fleetFake{start: time.Now(), res: map[string]*fakeRes{}, calls: map[string][]int{}}
}

func (f *fleetFake) add(id string, r fakeRes) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.res[id] = &r
}

// callCount returns the number of calls of action.
func (f *fleetFake) callCount(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls[action])
}

// lookup records a call of action and returns, for each visible ID asked
// for, its resource and current state.
func (f *fleetFake) lookup(action string, fs []types.Filter, each func(id string, r *fakeRes, state string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := fs[0].Values
	f.calls[action] = append(f.calls[action], len(ids))
	now := time.Since(f.start)
	for _, id := range ids {
		r, ok := f.res[id]
		if !ok || now < r.visible {
			continue
		}
		state := r.final
		if now < r.ready {
			state = r.pending
		}
		each(id, r, state)
	}
}

// progress returns r's progress at the fake's current time.
func (f *fleetFake) progress(r *fakeRes) string {
	now := time.Since(f.start)
	if now >= r.ready || r.ready <= r.visible {
		return "100%"
	}
	return strconv.Itoa(int(100*(now-r.visible)/(r.ready-r.visible))) + "%"
}

func (f *fleetFake) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	out := &ec2.DescribeImagesOutput{}
	f.lookup("DescribeImages", in.Filters, func(id string, r *fakeRes, state string) {
		img := types.Image{ImageId: aws.String(id), State: types.ImageState(state), StateReason: r.reason}
		for _, s := range r.snapshots {
			img.BlockDeviceMappings = append(img.BlockDeviceMappings,
				types.BlockDeviceMapping{Ebs: &types.EbsBlockDevice{SnapshotId: aws.String(s)}})
		}
		out.Images = append(out.Images, img)
	})
	return out, nil
}

func (f *fleetFake) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	var insts []types.Instance
	f.lookup("DescribeInstances", in.Filters, func(id string, r *fakeRes, state string) {
		insts = append(insts, types.Instance{InstanceId: aws.String(id), StateReason: r.reason,
			State: &types.InstanceState{Name: types.InstanceStateName(state)}})
	})
	return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{{Instances: insts}}}, nil
}

func (f *fleetFake) DescribeSnapshots(_ context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	out := &ec2.DescribeSnapshotsOutput{}
	f.lookup("DescribeSnapshots", in.Filters, func(id string, r *fakeRes, state string) {
		out.Snapshots = append(out.Snapshots, types.Snapshot{SnapshotId: aws.String(id),
			State: types.SnapshotState(state), Progress: aws.String(f.progress(r)), VolumeSize: aws.Int32(r.size)})
	})
	return out, nil
}

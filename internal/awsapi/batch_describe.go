package awsapi

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// describeChunk is the most IDs one batched Describe names: EC2 takes up
// to 200 values per filter.
const describeChunk = 200

// The batched Describe calls name the IDs in a filter, not in ImageIds /
// InstanceIds / SnapshotIds: with an ID list EC2 fails the whole call when
// one ID is not visible yet (InvalidAMIID.NotFound naming it), while a
// filter answers with what exists. An ID missing from the answer is
// NotFound to its wait: pending within the grace window, a failure after.

// seen is what one tick's Describe calls returned.
type seen struct {
	errs      [kinds]error
	instances map[string]types.Instance
	images    map[string]types.Image
	snapshots map[string]types.Snapshot
	// stale are the image watches whose image was not described this
	// tick, only their snapshots (see batch_progress.go).
	stale map[*watch]bool
}

// describe makes the tick's calls: instances; the snapshots of snapshot
// watches and of the progress watches whose snapshots are pending; the
// images of the other image watches, and of those whose snapshots are no
// longer all pending; then the snapshots of images first seen pending.
func (b *batcher) describe(ctx context.Context, served [kinds][]*watch, now time.Time) seen {
	s := seen{stale: map[*watch]bool{}}
	if ids := watchIDs(served[kindInstance]); len(ids) > 0 {
		s.instances, s.errs[kindInstance] = findInstances(ctx, b.client, ids)
	}
	snapIDs := watchIDs(served[kindSnapshot])
	for _, w := range served[kindImage] {
		if w.snapshotsOnly(now) {
			s.stale[w] = true
			snapIDs = append(snapIDs, w.mem.snaps...)
		}
	}
	if snapIDs = dedupe(snapIDs); len(snapIDs) > 0 {
		s.snapshots, s.errs[kindSnapshot] = findSnapshots(ctx, b.client, snapIDs)
	}
	var imageIDs []string
	for _, w := range served[kindImage] {
		if s.stale[w] && s.errs[kindSnapshot] == nil && !s.stillPending(w.mem.snaps) {
			delete(s.stale, w)
		}
		if !s.stale[w] {
			imageIDs = append(imageIDs, w.id)
		}
	}
	if imageIDs = dedupe(imageIDs); len(imageIDs) > 0 {
		s.images, s.errs[kindImage] = findImages(ctx, b.client, imageIDs)
	}
	s.describeNewSnapshots(ctx, b.client, served[kindImage])
	return s
}

// describeNewSnapshots adds the snapshots of the pending images of
// progress watches that this tick has not described yet.
func (s *seen) describeNewSnapshots(ctx context.Context, c EC2Describer, ws []*watch) {
	var ids []string
	for _, w := range ws {
		if img, ok := s.images[w.id]; ok && w.progress && img.State == types.ImageStatePending {
			for _, id := range imageSnapshotIDs(img) {
				if _, done := s.snapshots[id]; !done {
					ids = append(ids, id)
				}
			}
		}
	}
	if ids = dedupe(ids); len(ids) == 0 || s.errs[kindSnapshot] != nil {
		return
	}
	more, err := findSnapshots(ctx, c, ids)
	if err != nil {
		s.errs[kindSnapshot] = err
		return
	}
	if s.snapshots == nil {
		s.snapshots = map[string]types.Snapshot{}
	}
	for id, snap := range more {
		s.snapshots[id] = snap
	}
}

// observe returns what s says about w's resource; an image watch whose
// image was not described sees its last image with fresh snapshots.
func (s seen) observe(k kind, w *watch) observation {
	if k == kindImage && s.stale[w] {
		if err := s.errs[kindSnapshot]; err != nil {
			return observation{err: err}
		}
		return observation{found: true, image: w.mem.image, snapshots: s.snapshotsOf(w.mem.image)}
	}
	if err := s.errs[k]; err != nil {
		return observation{err: err}
	}
	var o observation
	switch k {
	case kindInstance:
		o.instance, o.found = s.instances[w.id]
	case kindImage:
		o.image, o.found = s.images[w.id]
		if w.progress {
			o.snapshots = s.snapshotsOf(o.image)
		}
	case kindSnapshot:
		o.snapshot, o.found = s.snapshots[w.id]
	}
	return o
}

// snapshotsOf returns the snapshots of img that s holds.
func (s seen) snapshotsOf(img types.Image) []types.Snapshot {
	var out []types.Snapshot
	for _, id := range imageSnapshotIDs(img) {
		if snap, ok := s.snapshots[id]; ok {
			out = append(out, snap)
		}
	}
	return out
}

func watchIDs(ws []*watch) []string {
	ids := make([]string, 0, len(ws))
	for _, w := range ws {
		ids = append(ids, w.id)
	}
	return dedupe(ids)
}

func dedupe(ids []string) []string {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// imageSnapshotIDs returns the snapshots of img's EBS block devices.
func imageSnapshotIDs(img types.Image) []string {
	var ids []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			ids = append(ids, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	return ids
}

func idFilter(name string, ids []string) []types.Filter {
	return []types.Filter{{Name: aws.String(name), Values: ids}}
}

func findInstances(ctx context.Context, c EC2Describer, ids []string) (map[string]types.Instance, error) {
	found := map[string]types.Instance{}
	for chunk := range slices.Chunk(ids, describeChunk) {
		in := &ec2.DescribeInstancesInput{Filters: idFilter("instance-id", chunk)}
		for {
			out, err := c.DescribeInstances(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, r := range out.Reservations {
				for _, inst := range r.Instances {
					found[aws.ToString(inst.InstanceId)] = inst
				}
			}
			if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
				break
			}
		}
	}
	return found, nil
}

// findImages includes deprecated and disabled images, which a filter
// would otherwise hide (an ID list shows them).
func findImages(ctx context.Context, c EC2Describer, ids []string) (map[string]types.Image, error) {
	found := map[string]types.Image{}
	for chunk := range slices.Chunk(ids, describeChunk) {
		in := &ec2.DescribeImagesInput{Filters: idFilter("image-id", chunk),
			IncludeDeprecated: aws.Bool(true), IncludeDisabled: aws.Bool(true)}
		for {
			out, err := c.DescribeImages(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, img := range out.Images {
				found[aws.ToString(img.ImageId)] = img
			}
			if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
				break
			}
		}
	}
	return found, nil
}

func findSnapshots(ctx context.Context, c EC2Describer, ids []string) (map[string]types.Snapshot, error) {
	found := map[string]types.Snapshot{}
	for chunk := range slices.Chunk(ids, describeChunk) {
		in := &ec2.DescribeSnapshotsInput{Filters: idFilter("snapshot-id", chunk)}
		for {
			out, err := c.DescribeSnapshots(ctx, in)
			if err != nil {
				return nil, err
			}
			for _, snap := range out.Snapshots {
				found[aws.ToString(snap.SnapshotId)] = snap
			}
			if in.NextToken = out.NextToken; aws.ToString(in.NextToken) == "" {
				break
			}
		}
	}
	return found, nil
}

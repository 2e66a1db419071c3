package awsapi

import (
	"context"
	"slices"

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
}

// describe makes the tick's calls: instances, images, then snapshots,
// which include those of the pending images of progress watches.
func (b *batcher) describe(ctx context.Context, served [kinds][]*watch) seen {
	var s seen
	if ids := watchIDs(served[kindInstance]); len(ids) > 0 {
		s.instances, s.errs[kindInstance] = findInstances(ctx, b.client, ids)
	}
	if ids := watchIDs(served[kindImage]); len(ids) > 0 {
		s.images, s.errs[kindImage] = findImages(ctx, b.client, ids)
	}
	ids := watchIDs(served[kindSnapshot])
	for _, w := range served[kindImage] {
		if img, ok := s.images[w.id]; ok && w.progress && img.State == types.ImageStatePending {
			ids = append(ids, imageSnapshotIDs(img)...)
		}
	}
	if ids = dedupe(ids); len(ids) > 0 {
		s.snapshots, s.errs[kindSnapshot] = findSnapshots(ctx, b.client, ids)
	}
	return s
}

// observe returns what s says about w's resource.
func (s seen) observe(k kind, w *watch) observation {
	if err := s.errs[k]; err != nil {
		return observation{err: err}
	}
	var o observation
	switch k {
	case kindInstance:
		o.instance, o.found = s.instances[w.id]
	case kindImage:
		o.image, o.found = s.images[w.id]
		for _, id := range imageSnapshotIDs(o.image) {
			if snap, ok := s.snapshots[id]; ok && w.progress {
				o.snapshots = append(o.snapshots, snap)
			}
		}
	case kindSnapshot:
		o.snapshot, o.found = s.snapshots[w.id]
	}
	return o
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

package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// volumeSnapshot is the snapshot of one launch volume of the instance.
type volumeSnapshot struct {
	Device, Volume, ID string
	// ref is the journal intent of the CreateSnapshot; pending says its
	// outcome is unknown (no ID): cleanup looks the snapshot up by its
	// volume and the run tags.
	ref     journal.Ref
	pending bool
}

// snapshotVolumes snapshots the (stopped) instance's EBS launch volumes
// that the image maps, all but those with omit_from_artifact: each
// CreateSnapshot is tagged at creation with the image's snapshot tags
// and journaled before any wait, then the snapshots are waited for
// together (batched). Cleanup deletes them unless the image registered
// from them was committed.
type snapshotVolumes struct{ b *build }

// Run snapshots the volumes and waits until every snapshot is completed.
func (n *snapshotVolumes) Run(ctx context.Context) error {
	b := n.b
	reg, region, instance := b.cfg.Register, b.cfg.Region, b.st.instance.ID
	if reg == nil {
		return fmt.Errorf("%s: snapshot volumes: the build registers no image from snapshots", b.env.BuildName)
	}
	vols, err := n.volumes(ctx)
	if err != nil {
		return err
	}
	_, tags, err := b.tagger().image(region)
	if err != nil {
		return fmt.Errorf("snapshot the volumes of instance %s in %s: %w", instance, region, err)
	}
	for _, dev := range reg.snapshotDevices(b.cfg.LaunchBlockDevices) {
		vol, ok := vols[dev]
		if !ok {
			return fmt.Errorf("snapshot device %s of instance %s in %s: the instance has no EBS volume there", dev, instance, region)
		}
		desc, err := n.description(dev, vol)
		if err != nil {
			return err
		}
		s := &volumeSnapshot{Device: dev, Volume: vol}
		b.st.volumeSnaps = append(b.st.volumeSnaps, s)
		if err := n.create(ctx, s, desc, tags); err != nil {
			return err
		}
	}
	return n.wait(ctx)
}

// volumes returns the instance's EBS volumes by device name.
func (n *snapshotVolumes) volumes(ctx context.Context) (map[string]string, error) {
	b := n.b
	id, region := b.st.instance.ID, b.cfg.Region
	out, err := b.ec2(region).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, awsapi.RetryEventual)
	if err != nil {
		return nil, fmt.Errorf("list the volumes of instance %s in %s: %w", id, region, err)
	}
	vols := map[string]string{}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			for _, m := range inst.BlockDeviceMappings {
				if m.Ebs != nil && aws.ToString(m.Ebs.VolumeId) != "" {
					vols[aws.ToString(m.DeviceName)] = aws.ToString(m.Ebs.VolumeId)
				}
			}
		}
	}
	return vols, nil
}

// description renders snapshot_description for a device's snapshot, or
// says where the snapshot comes from.
func (n *snapshotVolumes) description(dev, vol string) (string, error) {
	b := n.b
	if d := b.cfg.Register.SnapshotDescription; d != "" {
		desc, err := interpolate.Render(d, b.dataFor(b.cfg.Region))
		if err != nil {
			return "", fmt.Errorf("snapshot_description: %w", err)
		}
		return desc, nil
	}
	return fmt.Sprintf("imgbuild %s: %s (%s) of instance %s", b.env.BuildName, dev, vol, b.st.instance.ID), nil
}

// create journals the intent, calls CreateSnapshot with the tags and
// journals the ID. A refusal (an AWS error code) created nothing; a call
// whose outcome is unknown is left pending for Cleanup.
func (n *snapshotVolumes) create(ctx context.Context, s *volumeSnapshot, desc string, tags map[string]string) error {
	b, region := n.b, n.b.cfg.Region
	// Parent is the volume: with the run tags it tells this snapshot from
	// the build's others when its ID is lost.
	ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.Snapshot, Region: region, Build: b.env.BuildName, Tags: tags, Parent: s.Volume})
	if err != nil {
		return err
	}
	s.ref = ref
	out, err := b.ec2(region).CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId: aws.String(s.Volume), Description: aws.String(desc),
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeSnapshot, tags)},
	}, fewAttempts)
	if err != nil {
		if awsapi.ErrorCode(err) != "" && !serverError(err) {
			_ = b.env.Journal.NotCreated(ref) // refused: best effort, cleanup resolves the intent otherwise
		} else {
			s.pending = true
		}
		return fmt.Errorf("snapshot %s (%s) of instance %s in %s: %w", s.Device, s.Volume, b.st.instance.ID, region, err)
	}
	s.ID = aws.ToString(out.SnapshotId)
	if err := b.env.Journal.Created(ref, s.ID); err != nil {
		return err
	}
	b.say("snapshot %s of %s (%s) in %s pending", s.ID, s.Device, s.Volume, region)
	return nil
}

// wait waits for every snapshot at once; the waits share the region's
// batched describes.
func (n *snapshotVolumes) wait(ctx context.Context) error {
	b, region := n.b, n.b.cfg.Region
	w := b.waiter(region)
	var eg errgroup.Group
	for _, s := range b.st.volumeSnaps {
		eg.Go(func() error {
			if _, err := w.SnapshotCompleted(ctx, s.ID); err != nil {
				return fmt.Errorf("snapshot %s of %s in %s did not complete; cleanup deletes it: %w", s.ID, s.Device, region, err)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	b.say("snapshots %v completed in %s", n.ids(), region)
	return nil
}

func (n *snapshotVolumes) ids() []string {
	var ids []string
	for _, s := range n.b.st.volumeSnaps {
		ids = append(ids, s.ID)
	}
	return ids
}

// Cleanup deletes the snapshots, looking those whose creation is pending
// up first, unless the image registered from them was committed: they
// are then the final image's. When the committed image is only
// intermediate, its own cleanup deletes them with it; deleting them again
// here finds them gone.
func (n *snapshotVolumes) Cleanup(ctx context.Context) error {
	b := n.b
	if b.st.built.kept || b.st.succeeded.Load() && !b.st.built.Intermediate {
		return nil
	}
	var errs []error
	for _, s := range b.st.volumeSnaps {
		if s.pending {
			if err := n.resolve(ctx, s); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if s.ID != "" {
			errs = append(errs, b.remove(ctx, journal.Resource{Type: journal.Snapshot, Region: b.cfg.Region, ID: s.ID}))
		}
	}
	return errors.Join(errs...)
}

// resolve looks up the snapshot of a CreateSnapshot whose answer was
// lost, by its volume and the run tags, again within resolveGrace while
// none is visible, and journals what it finds.
func (n *snapshotVolumes) resolve(ctx context.Context, s *volumeSnapshot) error {
	b, region := n.b, n.b.cfg.Region
	filters := append(tagFilters(b.env.RunTags()), types.Filter{Name: aws.String("volume-id"), Values: []string{s.Volume}})
	deadline := time.Now().Add(resolveGrace)
	for delay := 250 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		out, err := b.ec2(region).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: filters})
		if err != nil {
			return fmt.Errorf("look up the snapshot of %s (%s) in %s, which may be left behind: %w", s.Device, s.Volume, region, err)
		}
		var ids []string
		for _, snap := range out.Snapshots {
			if id := aws.ToString(snap.SnapshotId); !slices.Contains(n.ids(), id) {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			s.ID, s.pending = ids[0], false
			return b.env.Journal.Created(s.ref, s.ID)
		}
		if time.Now().Add(delay).After(deadline) {
			s.pending = false
			return b.env.Journal.NotCreated(s.ref)
		}
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("look up the snapshot of %s (%s) in %s, which may be left behind: %w", s.Device, s.Volume, region, err)
		}
	}
}

package sweep

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/localcloud"
)

// TestResolveSnapshotOfVolume: a snapshot intent without an ID whose
// Parent is a volume (amazon-ebssurrogate snapshots every launch volume
// with the same run tags) resolves to that volume's snapshot only.
func TestResolveSnapshotOfVolume(t *testing.T) {
	sess := youngCloud(t, 0)
	ctx := context.Background()
	c := sess.EC2(localcloud.Region)
	tags := []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot,
		Tags: []types.Tag{{Key: aws.String(tagRunID), Value: aws.String("run-1")}}}}
	snaps := map[string]string{}
	for range 2 {
		v, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(localcloud.Region + "a"), Size: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: v.VolumeId, TagSpecifications: tags})
		if err != nil {
			t.Fatal(err)
		}
		snaps[aws.ToString(v.VolumeId)] = aws.ToString(s.SnapshotId)
	}
	for vol, snap := range snaps {
		r, err := Resolve(ctx, sess, journal.Resource{Type: journal.Snapshot, Region: localcloud.Region, Parent: vol,
			Tags: map[string]string{tagRunID: "run-1"}})
		if err != nil || r.ID != snap {
			t.Errorf("snapshot of %s: %q, %v; want %s", vol, r.ID, err, snap)
		}
	}
}

package localcloud_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestVolumeSnapshotRegisteredImageBoots builds a system the
// amazon-ebssurrogate way: an instance launched with an extra volume sees
// it at /mnt/xvdf and writes onto it; the volume keeps its content over a
// stop; its snapshot, registered as the root device of an image, boots
// that content (over the base system) in the build region and, copied,
// in another; the image shows what RegisterImage asked, not moto's
// defaults. A snapshot in use cannot be deleted, and terminating,
// deregistering and deleting everything leaves no volume content or
// layer behind.
func TestVolumeSnapshotRegisteredImageBoots(t *testing.T) {
	t.Parallel()
	cloud, tmp := guestCloud(t)
	ctx := context.Background()
	use1, euw1 := client(cloud, "us-east-1", 0), client(cloud, "eu-west-1", 0)
	key := newSigner(t)
	importKey(t, use1, "k", key)
	importKey(t, euw1, "k", key)

	run, err := use1.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(linuxAMI(t, use1)), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, KeyName: aws.String("k"), BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(4), DeleteOnTermination: aws.Bool(false)}},
			{DeviceName: aws.String("/dev/xvdg"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(1), DeleteOnTermination: aws.Bool(true)}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	surrogate := aws.ToString(run.Instances[0].InstanceId)
	conn := login(t, use1, surrogate, key)
	output(t, conn, "mountpoint -q /mnt/xvdf && mountpoint -q /mnt/xvdg && sudo mkdir /mnt/xvdf/etc && "+
		"echo from-volume | sudo tee /mnt/xvdf/etc/volume-marker >/dev/null && echo scratch | sudo tee /mnt/xvdg/f >/dev/null && "+
		"echo root-only | sudo tee /etc/root-only >/dev/null")
	vols := map[string]string{}
	for _, m := range describeInstance(t, use1, surrogate).BlockDeviceMappings {
		vols[aws.ToString(m.DeviceName)] = aws.ToString(m.Ebs.VolumeId)
	}

	stop(t, use1, surrogate)
	snap, err := use1.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(vols["/dev/xvdf"])})
	if err != nil {
		t.Fatal(err)
	}
	snapID := aws.ToString(snap.SnapshotId)
	checkRegisterRefusals(t, use1, snapID)
	reg, err := use1.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("surrogate"), RootDeviceName: aws.String("/dev/xvda"),
		Architecture: types.ArchitectureValuesX8664, VirtualizationType: aws.String("hvm"), EnaSupport: aws.Bool(true),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{SnapshotId: snap.SnapshotId, VolumeType: types.VolumeTypeGp3}}},
		TagSpecifications:   []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ami := aws.ToString(reg.ImageId)
	checkRegistered(t, use1, ami, snapID)
	if _, err := use1.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: snap.SnapshotId}); errorCode(err) != "InvalidSnapshot.InUse" {
		t.Errorf("delete the snapshot of a registered image: %v, want InvalidSnapshot.InUse", err)
	}
	cp, err := euw1.CopyImage(ctx, &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: reg.ImageId, Name: aws.String("surrogate")})
	if err != nil {
		t.Fatal(err)
	}
	copied := describeImage(t, euw1, aws.ToString(cp.ImageId))
	if aws.ToString(copied.RootDeviceName) != "/dev/xvda" || len(copied.BlockDeviceMappings) != 1 ||
		aws.ToString(copied.BlockDeviceMappings[0].Ebs.SnapshotId) == snapID || copied.Architecture != types.ArchitectureValuesX8664 {
		t.Errorf("copy: root %s, mappings %+v, architecture %s", aws.ToString(copied.RootDeviceName), copied.BlockDeviceMappings, copied.Architecture)
	}

	for c, image := range map[*ec2.Client]string{use1: ami, euw1: aws.ToString(cp.ImageId)} {
		id := runFrom(t, c, image, "k", "")
		got := output(t, login(t, c, id, key), "cat /etc/volume-marker; test -e /etc/root-only || echo no-root-only; test -e /f || echo no-scratch")
		if got != "from-volume\nno-root-only\nno-scratch\n" {
			t.Errorf("%s: an instance of the registered image sees %q", c.Options().Region, got)
		}
		terminate(t, c, id)
	}

	if _, err := use1.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{surrogate}}); err != nil {
		t.Fatal(err)
	}
	if got := output(t, login(t, use1, surrogate, key), "cat /mnt/xvdf/etc/volume-marker /mnt/xvdg/f"); got != "from-volume\nscratch\n" {
		t.Errorf("the volumes after a stop and start hold %q", got)
	}
	terminate(t, use1, surrogate)
	if dirs, _ := filepath.Glob(filepath.Join(tmp, "volumes", "*")); len(dirs) != 1 {
		t.Errorf("volume content after the termination: %v, want only the one kept", dirs)
	}
	cleanUpRegistered(t, map[*ec2.Client]string{use1: ami, euw1: aws.ToString(cp.ImageId)}, snapID, vols["/dev/xvdf"])
	if ls, _ := filepath.Glob(filepath.Join(tmp, "layers", "*")); len(ls) != 0 {
		t.Errorf("layers left after everything was deleted: %v", ls)
	}
	if dirs, _ := filepath.Glob(filepath.Join(tmp, "volumes", "*")); len(dirs) != 0 {
		t.Errorf("volume content left after DeleteVolume: %v", dirs)
	}
	if mounts := testenv.MountsUnder(t, tmp); len(mounts) != 0 {
		t.Errorf("mounts left: %v", mounts)
	}
}

// checkRegisterRefusals: RegisterImage refuses snapshot tags, a snapshot
// that does not exist and a volume smaller than its snapshot, as EC2 does.
func checkRegisterRefusals(t *testing.T, c *ec2.Client, snap string) {
	t.Helper()
	mapping := func(snap string, size int32) []types.BlockDeviceMapping {
		ebs := &types.EbsBlockDevice{SnapshotId: aws.String(snap)}
		if size > 0 {
			ebs.VolumeSize = aws.Int32(size)
		}
		return []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: ebs}}
	}
	for name, tc := range map[string]struct {
		in   *ec2.RegisterImageInput
		code string
	}{
		"snapshot tags": {&ec2.RegisterImageInput{BlockDeviceMappings: mapping(snap, 0), TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}}, "InvalidParameterValue"},
		"missing snapshot": {&ec2.RegisterImageInput{BlockDeviceMappings: mapping("snap-0123456789abcdef0", 0)}, "InvalidSnapshot.NotFound"},
		"volume too small": {&ec2.RegisterImageInput{BlockDeviceMappings: mapping(snap, 2)}, "InvalidBlockDeviceMapping"},
	} {
		tc.in.Name, tc.in.RootDeviceName = aws.String("refused-"+name[:4]), aws.String("/dev/xvda")
		if _, err := c.RegisterImage(context.Background(), tc.in); errorCode(err) != tc.code {
			t.Errorf("%s: RegisterImage: %v, want %s", name, err, tc.code)
		}
	}
}

// checkRegistered: a registered image shows what RegisterImage asked, its
// root device is the snapshot, and moto's own snapshot of it is hidden.
func checkRegistered(t *testing.T, c *ec2.Client, ami, snap string) {
	t.Helper()
	img := describeImage(t, c, ami)
	if aws.ToString(img.RootDeviceName) != "/dev/xvda" || img.RootDeviceType != types.DeviceTypeEbs ||
		img.Architecture != types.ArchitectureValuesX8664 || img.VirtualizationType != types.VirtualizationTypeHvm ||
		!aws.ToBool(img.EnaSupport) || img.BootMode != "" {
		t.Errorf("registered image: root %s (%s), %s %s, ena %v, boot mode %q", aws.ToString(img.RootDeviceName), img.RootDeviceType,
			img.Architecture, img.VirtualizationType, aws.ToBool(img.EnaSupport), img.BootMode)
	}
	if len(img.BlockDeviceMappings) != 1 {
		t.Fatalf("registered image mappings %+v", img.BlockDeviceMappings)
	}
	m := img.BlockDeviceMappings[0]
	if aws.ToString(m.DeviceName) != "/dev/xvda" || aws.ToString(m.Ebs.SnapshotId) != snap || aws.ToInt32(m.Ebs.VolumeSize) != 4 ||
		m.Ebs.VolumeType != types.VolumeTypeGp3 || !aws.ToBool(m.Ebs.DeleteOnTermination) {
		t.Errorf("root mapping %s %+v", aws.ToString(m.DeviceName), *m.Ebs)
	}
	out, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("description"), Values: []string{"Auto-created snapshot for AMI " + ami}}}})
	if err != nil || len(out.Snapshots) != 0 {
		t.Errorf("snapshots naming the registered image: %+v, %v; want moto's own hidden", out, err)
	}
}

func stop(t *testing.T, c *ec2.Client, id string) {
	t.Helper()
	if _, err := c.StopInstances(context.Background(), &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, id+" stopped", func() bool { return instanceState(t, c, id) == types.InstanceStateNameStopped })
}

func terminate(t *testing.T, c *ec2.Client, id string) {
	t.Helper()
	if _, err := c.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
}

// cleanUpRegistered deregisters the images, deletes their snapshots, the
// registered snapshot and the kept volume.
func cleanUpRegistered(t *testing.T, images map[*ec2.Client]string, snap, volume string) {
	t.Helper()
	ctx := context.Background()
	var use1 *ec2.Client
	for c, id := range images {
		if c.Options().Region == "us-east-1" {
			use1 = c
		}
		mappings := describeImage(t, c, id).BlockDeviceMappings
		if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		for _, m := range mappings {
			if _, err := c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: m.Ebs.SnapshotId}); err != nil {
				t.Errorf("delete snapshot %s of %s: %v", aws.ToString(m.Ebs.SnapshotId), id, err)
			}
		}
	}
	if _, err := use1.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err != nil && errorCode(err) != "InvalidSnapshot.NotFound" {
		t.Error(err)
	}
	eventually(t, volume+" available", func() bool {
		out, err := use1.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volume}})
		return err == nil && len(out.Volumes) == 1 && out.Volumes[0].State == types.VolumeStateAvailable
	})
	if _, err := use1.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(volume)}); err != nil {
		t.Fatal(err)
	}
}

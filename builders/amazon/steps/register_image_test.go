package steps

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
)

// TestRegisterMappings checks the mappings of an image registered from
// volume snapshots: the root source's snapshot under the root device
// name with ami_root_device's settings, other snapshotted launch volumes
// under their own names, omitted and instance store devices, and
// ami_block_device_mappings that a launch device replaces.
func TestRegisterMappings(t *testing.T) {
	enc := true
	launch := []amazon.BlockDevice{
		{DeviceName: "/dev/xvdf", VolumeSize: 8, VolumeType: "gp3", Throughput: 250, Encrypted: &enc, KmsKeyID: "k"},
		{DeviceName: "/dev/xvdg", VolumeSize: 4, DeleteOnTermination: true},
		{DeviceName: "/dev/xvdh", VolumeSize: 2}, // omitted
		{DeviceName: "/dev/sdb", VirtualName: "ephemeral0"},
	}
	ami := []amazon.BlockDevice{{DeviceName: "/dev/xvdg", VolumeSize: 100}, {DeviceName: "/dev/xvdz", VolumeSize: 1}}
	r := &Register{Root: RootDevice{SourceDeviceName: "/dev/xvdf", DeviceName: "/dev/xvda", DeleteOnTermination: true, VolumeSize: 16},
		Omit: []string{"/dev/xvdh"}}
	if got := r.snapshotDevices(launch); !slices.Equal(got, []string{"/dev/xvdf", "/dev/xvdg"}) {
		t.Errorf("snapshot devices %v", got)
	}
	got := registerMappings(launch, ami, r, map[string]string{"/dev/xvdf": "snap-root", "/dev/xvdg": "snap-data"})
	want := []string{
		"/dev/xvda snap=snap-root size=16 type=gp3 throughput=250 delete=true encrypted=<nil> kms=<nil>",
		"/dev/sdb virtual=ephemeral0",
		"/dev/xvdg snap=snap-data size=4 type= throughput=<nil> delete=true encrypted=<nil> kms=<nil>",
		"/dev/xvdz snap=<nil> size=1 type= throughput=<nil> delete=false encrypted=<nil> kms=<nil>",
	}
	var lines []string
	for _, m := range got {
		lines = append(lines, describeMapping(m))
	}
	if !slices.Equal(lines, want) {
		t.Errorf("mappings\n%q\nwant\n%q", lines, want)
	}
}

// TestRootMappingVolumeType: a root volume_type other than the launch
// volume's drops the launch volume's IOPS, and its throughput unless gp3.
func TestRootMappingVolumeType(t *testing.T) {
	m := mapping(amazon.BlockDevice{DeviceName: "/dev/xvdf", VolumeType: "gp3", IOPS: 4000, Throughput: 300})
	io := rootMapping(m, RootDevice{DeviceName: "/dev/xvda", VolumeType: "io2", IOPS: 5000})
	if io.Ebs.VolumeType != types.VolumeTypeIo2 || aws.ToInt32(io.Ebs.Iops) != 5000 || io.Ebs.Throughput != nil {
		t.Errorf("io2 root: %+v", io.Ebs)
	}
	gp2 := rootMapping(m, RootDevice{DeviceName: "/dev/xvda", VolumeType: "gp2"})
	if gp2.Ebs.Iops != nil || gp2.Ebs.Throughput != nil || aws.ToInt32(m.Ebs.Iops) != 4000 {
		t.Errorf("gp2 root: %+v (launch mapping changed: %+v)", gp2.Ebs, m.Ebs)
	}
}

func describeMapping(m types.BlockDeviceMapping) string {
	if m.VirtualName != nil {
		return aws.ToString(m.DeviceName) + " virtual=" + aws.ToString(m.VirtualName)
	}
	e := m.Ebs
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	num := func(p *int32) string {
		if p == nil {
			return "<nil>"
		}
		return fmt.Sprint(*p)
	}
	enc := "<nil>"
	if e.Encrypted != nil {
		enc = fmt.Sprint(*e.Encrypted)
	}
	return fmt.Sprintf("%s snap=%s size=%s type=%s throughput=%s delete=%v encrypted=%s kms=%s", aws.ToString(m.DeviceName),
		str(e.SnapshotId), num(e.VolumeSize), e.VolumeType, num(e.Throughput), aws.ToBool(e.DeleteOnTermination), enc, str(e.KmsKeyId))
}

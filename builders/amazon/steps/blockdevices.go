package steps

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
)

// mappings converts block device blocks into EC2 mappings.
func mappings(devices []amazon.BlockDevice) []types.BlockDeviceMapping {
	out := make([]types.BlockDeviceMapping, 0, len(devices))
	for _, d := range devices {
		out = append(out, mapping(d))
	}
	return out
}

func mapping(d amazon.BlockDevice) types.BlockDeviceMapping {
	m := types.BlockDeviceMapping{DeviceName: aws.String(d.DeviceName)}
	switch {
	case d.NoDevice:
		m.NoDevice = aws.String("")
		return m
	case d.VirtualName != "":
		m.VirtualName = aws.String(d.VirtualName)
		return m
	}
	ebs := &types.EbsBlockDevice{DeleteOnTermination: aws.Bool(d.DeleteOnTermination), Encrypted: d.Encrypted}
	if d.VolumeType != "" {
		ebs.VolumeType = types.VolumeType(d.VolumeType)
	}
	if d.VolumeSize > 0 {
		ebs.VolumeSize = aws.Int32(int32(d.VolumeSize))
	}
	if d.IOPS > 0 {
		ebs.Iops = aws.Int32(int32(d.IOPS))
	}
	if d.Throughput > 0 {
		ebs.Throughput = aws.Int32(int32(d.Throughput))
	}
	if d.KmsKeyID != "" {
		ebs.KmsKeyId = aws.String(d.KmsKeyID)
	}
	if d.SnapshotID != "" {
		ebs.SnapshotId = aws.String(d.SnapshotID)
	}
	m.Ebs = ebs
	return m
}

// launchMappings returns launch_block_device_mappings, plus (no_ephemeral)
// a no-device mapping for every instance store volume of the source image
// that the configuration does not map itself.
func launchMappings(devices []amazon.BlockDevice, source []types.BlockDeviceMapping, noEphemeral bool) []types.BlockDeviceMapping {
	out := mappings(devices)
	if !noEphemeral {
		return out
	}
	mapped := map[string]bool{}
	for _, d := range devices {
		mapped[d.DeviceName] = true
	}
	for _, s := range source {
		name := aws.ToString(s.DeviceName)
		if strings.HasPrefix(aws.ToString(s.VirtualName), "ephemeral") && !mapped[name] {
			out = append(out, types.BlockDeviceMapping{DeviceName: aws.String(name), NoDevice: aws.String("")})
		}
	}
	return out
}

// launchMappings returns the block device mappings the build's instance
// is launched with.
func (b *build) launchMappings() []types.BlockDeviceMapping {
	return launchMappings(b.cfg.LaunchBlockDevices, b.st.source.Mappings, b.cfg.NoEphemeral)
}

// volumesSurvive reports whether an instance launched with launch from an
// image with the source mappings may leave an EBS volume behind when it
// is terminated: a volume whose effective mapping (the launch mapping of
// its device, else the image's) does not say delete on termination.
func volumesSurvive(launch, source []types.BlockDeviceMapping) bool {
	keeps := map[string]bool{}
	inherited := map[string]*bool{} // device -> the image's delete on termination
	for _, m := range source {
		name := aws.ToString(m.DeviceName)
		keeps[name] = keepsVolume(m, nil)
		if m.Ebs != nil {
			inherited[name] = m.Ebs.DeleteOnTermination
		}
	}
	for _, m := range launch {
		name := aws.ToString(m.DeviceName)
		keeps[name] = keepsVolume(m, inherited[name])
	}
	for _, keep := range keeps {
		if keep {
			return true
		}
	}
	return false
}

// keepsVolume reports whether the mapping m attaches an EBS volume that
// outlives its instance; inherited is the image's delete-on-termination
// for the device, used when m does not say. Unknown counts as surviving.
func keepsVolume(m types.BlockDeviceMapping, inherited *bool) bool {
	if m.NoDevice != nil || m.Ebs == nil {
		return false
	}
	del := m.Ebs.DeleteOnTermination
	if del == nil {
		del = inherited
	}
	return !aws.ToBool(del)
}

package amazon

import (
	"regexp"
	"strconv"

	"github.com/imgbuild/imgbuild/internal/check"
)

var virtualNameRE = regexp.MustCompile(`^ephemeral[0-9]+$`)

// BlockDevices holds the two repeatable block device mapping blocks.
type BlockDevices struct {
	// LaunchBlockDevices are the volumes of the build instance, used at
	// RunInstances; they end up in the AMI too.
	LaunchBlockDevices []BlockDevice `hcl:"launch_block_device_mappings,block"`
	// AMIBlockDevices are extra mappings recorded in the AMI (CreateImage
	// or RegisterImage) without being attached to the build instance.
	AMIBlockDevices []BlockDevice `hcl:"ami_block_device_mappings,block"`
}

// BlockDevice is one launch_block_device_mappings {} or
// ami_block_device_mappings {} block.
type BlockDevice struct {
	// DeviceName is the device, e.g. "/dev/sda1" or "/dev/xvdf". Required.
	DeviceName string `hcl:"device_name"`
	// VolumeType is gp2, gp3, io1, io2, st1, sc1 or standard. Default: EC2's (gp2 or gp3).
	VolumeType string `hcl:"volume_type"`
	// VolumeSize is the size in GiB. Default: the snapshot's size.
	VolumeSize int `hcl:"volume_size"`
	// IOPS is the provisioned IOPS; only for io1, io2 and gp3.
	IOPS int `hcl:"iops"`
	// Throughput is the throughput in MiB/s, 125 to 1000; only for gp3.
	Throughput int `hcl:"throughput"`
	// Encrypted encrypts (true) or not (false) the volume. Default: unset,
	// as the snapshot or the account default.
	Encrypted *bool `hcl:"encrypted"`
	// KmsKeyID is the KMS key that encrypts the volume; needs encrypted = true.
	KmsKeyID string `hcl:"kms_key_id"`
	// SnapshotID is the snapshot to create the volume from.
	SnapshotID string `hcl:"snapshot_id"`
	// DeleteOnTermination deletes the volume when the instance terminates.
	// Default: false.
	DeleteOnTermination bool `hcl:"delete_on_termination"`
	// VirtualName maps an instance store volume, "ephemeral0" to "ephemeral23".
	VirtualName string `hcl:"virtual_name"`
	// NoDevice suppresses the device of the source AMI with this device_name.
	// Default: false.
	NoDevice bool `hcl:"no_device"`
}

// Prepare checks both lists of block device mappings.
func (b *BlockDevices) Prepare(ctx *check.Context) {
	for i := range b.LaunchBlockDevices {
		b.LaunchBlockDevices[i].prepare(ctx, "launch_block_device_mappings", i)
	}
	for i := range b.AMIBlockDevices {
		b.AMIBlockDevices[i].prepare(ctx, "ami_block_device_mappings", i)
	}
}

func (d *BlockDevice) prepare(ctx *check.Context, block string, i int) {
	at := func(attr string) []string { return check.Path(block, strconv.Itoa(i), attr) }
	ctx.Require(at("device_name"), d.DeviceName != "", "each block device mapping names its device, e.g. \"/dev/sda1\"")
	ctx.Enum(at("volume_type"), d.VolumeType, "gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")
	if d.VolumeSize < 0 {
		ctx.Errorf(at("volume_size"), "Invalid value for volume_size", "volume_size must be a positive size in GiB, got %d", d.VolumeSize)
	}
	if d.IOPS != 0 && d.VolumeType != "io1" && d.VolumeType != "io2" && d.VolumeType != "gp3" {
		ctx.Errorf(at("iops"), "iops needs a provisioned volume type", "iops is only valid with volume_type io1, io2 or gp3, not %q.", d.VolumeType)
	}
	if d.Throughput != 0 {
		if d.VolumeType != "gp3" {
			ctx.Errorf(at("throughput"), "throughput needs gp3", "throughput is only valid with volume_type gp3, not %q.", d.VolumeType)
		} else if d.Throughput < 125 || d.Throughput > 1000 {
			ctx.Errorf(at("throughput"), "Invalid value for throughput", "throughput must be from 125 to 1000 MiB/s, got %d", d.Throughput)
		}
	}
	if d.KmsKeyID != "" && (d.Encrypted == nil || !*d.Encrypted) {
		ctx.Errorf(at("kms_key_id"), "kms_key_id needs encrypted", "Set encrypted = true on device %q to use kms_key_id.", d.DeviceName)
	}
	if d.VirtualName != "" && !virtualNameRE.MatchString(d.VirtualName) {
		ctx.Errorf(at("virtual_name"), "Invalid value for virtual_name", "virtual_name must be ephemeralN, e.g. \"ephemeral0\", got %q", d.VirtualName)
	}
	if d.NoDevice && (d.SnapshotID != "" || d.VolumeSize != 0 || d.VolumeType != "" || d.VirtualName != "") {
		ctx.Errorf(at("no_device"), "Conflicting no_device", "A mapping with no_device = true suppresses device %q and takes no volume settings.", d.DeviceName)
	}
}

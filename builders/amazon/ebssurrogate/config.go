// Package ebssurrogate is the amazon-ebssurrogate builder: it launches a
// "surrogate" instance with extra EBS volumes, lets the provisioners build
// a system onto one of them, snapshots the volumes and registers an AMI
// from the snapshots (RegisterImage), whose root device is the snapshot of
// the volume ami_root_device names. Nothing of the surrogate's own root
// volume goes into the image unless it is a launch volume the image maps.
// The image is then copied and finalised like an amazon-ebs image.
package ebssurrogate

import (
	"slices"
	"strconv"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator"
)

// Config is the configuration of a source "amazon-ebssurrogate" block:
// the settings every amazon builder shares, with launch block devices
// that may be left out of the image, and those of the registered image.
type Config struct {
	amazon.AccessConfig
	amazon.AMIConfig
	amazon.RunConfig

	// LaunchMappings are the volumes of the surrogate instance, attached
	// at RunInstances. Every EBS one is snapshotted and mapped in the
	// image under its device name, unless omit_from_artifact is set; the
	// one ami_root_device names becomes the image's root device.
	LaunchMappings []BlockDevice `hcl:"launch_block_device_mappings,block"`
	// AMIMappings are extra mappings recorded in the image without being
	// attached to the surrogate; a launch mapping of the same device
	// name replaces one.
	AMIMappings []amazon.BlockDevice `hcl:"ami_block_device_mappings,block"`

	communicator.Config

	// Timeouts sets the deadline of each kind of wait.
	Timeouts amazon.Timeouts `hcl:"timeouts,block" fingerprint:"-"`

	// RootDevice is the root device of the image: which launch volume's
	// snapshot it boots from, and under which device name. Required.
	RootDevice RootDevice `hcl:"ami_root_device,block"`
	// SnapshotDescription is the description of the volume snapshots; it
	// may hold legacy placeholders. Default: the device, volume and
	// instance each snapshot comes from.
	SnapshotDescription string `hcl:"snapshot_description" fingerprint:"-"`
	// SkipAMIRunTags stops run_tags from also being applied to the image
	// and its snapshots. Default: false.
	SkipAMIRunTags bool `hcl:"skip_ami_run_tags" fingerprint:"-"`
	// RunVolumeTags are applied to the volumes of the surrogate instance;
	// values may hold legacy placeholders. They are not the snapshots'
	// tags (snapshot_tags).
	RunVolumeTags map[string]string `hcl:"run_volume_tags" fingerprint:"-"`
	// RunVolumeTag blocks add run volume tags like the run_volume_tags
	// map; the map wins on duplicate names.
	RunVolumeTag []NameValue `hcl:"run_volume_tag,block" fingerprint:"-"`
	// Architecture is the image's architecture: "x86_64", "arm64",
	// "i386", "x86_64_mac" or "arm64_mac". Default: "x86_64".
	Architecture string `hcl:"ami_architecture"`
	// BootMode is the image's boot mode: "legacy-bios", "uefi" or
	// "uefi-preferred". Default: EC2's for the architecture (legacy-bios
	// for x86_64, uefi for arm64).
	BootMode string `hcl:"boot_mode"`
	// UefiData is the base64 of the image's non-volatile UEFI variable
	// store; needs boot_mode "uefi" or "uefi-preferred" (or an arm64
	// image, which boots UEFI).
	UefiData string `hcl:"uefi_data"`
	// TPMSupport is "v2.0" to register the image with NitroTPM. Default:
	// unset.
	TPMSupport string `hcl:"tpm_support"`
	// UseCreateImage makes the image with CreateImage after swapping the
	// surrogate's root volume for the built one, instead of registering
	// it from snapshots. Not implemented yet: validate refuses it.
	UseCreateImage bool `hcl:"use_create_image"`
}

// BlockDevice is one launch_block_device_mappings {} block: a block
// device of the surrogate instance.
type BlockDevice struct {
	amazon.BlockDevice
	// OmitFromArtifact leaves the volume out of the image: it is neither
	// snapshotted nor mapped. Not for the root source device.
	// Default: false.
	OmitFromArtifact bool `hcl:"omit_from_artifact"`
}

// RootDevice is the ami_root_device {} block.
type RootDevice struct {
	// SourceDeviceName is the device name of the launch volume whose
	// snapshot is the image's root device; it must be the device_name of
	// an EBS launch_block_device_mappings block. Required.
	SourceDeviceName string `hcl:"source_device_name"`
	// DeviceName is the image's root device name, e.g. "/dev/xvda".
	// Required.
	DeviceName string `hcl:"device_name"`
	// DeleteOnTermination deletes the root volume of instances launched
	// from the image when they terminate. Default: false.
	DeleteOnTermination bool `hcl:"delete_on_termination"`
	// VolumeType is the root volume's type: gp2, gp3, io1, io2, st1, sc1
	// or standard. Default: the launch volume's.
	VolumeType string `hcl:"volume_type"`
	// VolumeSize is the root volume's size in GiB, at least the launch
	// volume's. Default: the launch volume's.
	VolumeSize int `hcl:"volume_size"`
	// IOPS is the root volume's provisioned IOPS; only for io1, io2 and
	// gp3. Default: the launch volume's.
	IOPS int `hcl:"iops"`
}

// NameValue is one run_volume_tag {} block.
type NameValue struct {
	// Name is the tag key. Required.
	Name string `hcl:"name" required:"true"`
	// Value is the tag value; it may hold legacy placeholders.
	Value string `hcl:"value"`
}

// Prepare fills defaults and checks the configuration offline, with
// Packer's rules for amazon-ebssurrogate: ami_root_device and
// ami_virtualization_type are required, and the root source device must
// be a launch volume the image keeps.
func (c *Config) Prepare(ctx *check.Context) {
	ctx.RefuseSet(check.Path("use_create_image"), c.UseCreateImage,
		"Remove it: the image is registered from the snapshots of the launch volumes, ami_root_device naming the root one.")
	src := c.source()
	src.Prepare(ctx)
	c.AccessConfig, c.AMIConfig, c.RunConfig, c.Config, c.Timeouts = src.AccessConfig, src.AMIConfig, src.RunConfig, src.Config, src.Timeouts
	tags := make([]amazon.KeyValue, 0, len(c.RunVolumeTag))
	for _, nv := range c.RunVolumeTag {
		tags = append(tags, amazon.KeyValue{Key: nv.Name, Value: nv.Value})
	}
	c.RunVolumeTags = amazon.MergeTags(ctx, "run_volume_tags", c.RunVolumeTags, tags)
	ctx.Placeholders(check.Path("snapshot_description"), c.SnapshotDescription)
	ctx.Require(check.Path("ami_virtualization_type"), c.AMIVirtType != "",
		"an image registered from snapshots has the virtualization type given here, \"hvm\" or \"paravirtual\"")
	c.prepareImage(ctx)
	c.prepareRoot(ctx)
}

// source returns the settings every amazon builder shares, the launch
// mappings without omit_from_artifact.
func (c *Config) source() amazon.SourceConfig {
	launch := make([]amazon.BlockDevice, 0, len(c.LaunchMappings))
	for _, d := range c.LaunchMappings {
		launch = append(launch, d.BlockDevice)
	}
	return amazon.SourceConfig{
		AccessConfig: c.AccessConfig, AMIConfig: c.AMIConfig, RunConfig: c.RunConfig,
		BlockDevices: amazon.BlockDevices{LaunchBlockDevices: launch, AMIBlockDevices: c.AMIMappings},
		Config:       c.Config, Timeouts: c.Timeouts,
	}
}

// prepareImage checks the attributes RegisterImage takes.
func (c *Config) prepareImage(ctx *check.Context) {
	if c.Architecture == "" {
		c.Architecture = "x86_64"
	}
	ctx.Enum(check.Path("ami_architecture"), c.Architecture, "x86_64", "arm64", "i386", "x86_64_mac", "arm64_mac")
	ctx.Enum(check.Path("boot_mode"), c.BootMode, "legacy-bios", "uefi", "uefi-preferred")
	ctx.Enum(check.Path("tpm_support"), c.TPMSupport, "v2.0")
	switch {
	case c.UefiData == "":
	case c.BootMode == "legacy-bios":
		ctx.Errorf(check.Path("uefi_data"), "uefi_data needs UEFI", "uefi_data cannot go with boot_mode = \"legacy-bios\".")
	case c.BootMode == "" && c.Architecture != "arm64":
		ctx.Errorf(check.Path("uefi_data"), "uefi_data needs UEFI",
			"Set boot_mode = \"uefi\" to use uefi_data: a %q image boots legacy BIOS by default.", c.Architecture)
	}
}

// prepareRoot checks ami_root_device against the launch mappings.
func (c *Config) prepareRoot(ctx *check.Context) {
	r := c.RootDevice
	at := func(attr string) []string { return check.Path("ami_root_device", attr) }
	if r == (RootDevice{}) && !ctx.IsUnknown("ami_root_device") {
		ctx.Errorf(check.Path("ami_root_device"), "Missing ami_root_device block",
			"An ami_root_device block is required: its source_device_name names the launch volume the image boots from, its device_name the image's root device.")
		return
	}
	ctx.Require(at("source_device_name"), r.SourceDeviceName != "", "it names the launch volume whose snapshot is the image's root device")
	ctx.Require(at("device_name"), r.DeviceName != "", "it is the image's root device name, e.g. \"/dev/xvda\"")
	ctx.Enum(at("volume_type"), r.VolumeType, "gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")
	if r.VolumeSize < 0 {
		ctx.Errorf(at("volume_size"), "Invalid value for volume_size", "volume_size must be a positive size in GiB, got %d", r.VolumeSize)
	}
	if r.IOPS < 0 {
		ctx.Errorf(at("iops"), "Invalid value for iops", "iops must be positive, got %d", r.IOPS)
	}
	i := slices.IndexFunc(c.LaunchMappings, func(d BlockDevice) bool { return d.DeviceName == r.SourceDeviceName })
	if r.SourceDeviceName == "" || ctx.IsUnknown("ami_root_device", "source_device_name") {
		return
	}
	if i < 0 {
		ctx.Errorf(at("source_device_name"), "Root source device not launched",
			"No launch_block_device_mappings block has device_name %q: the image's root device is the snapshot of one of the surrogate's launch volumes.", r.SourceDeviceName)
		return
	}
	c.checkRootSource(ctx, i)
}

// checkRootSource checks the launch mapping i that ami_root_device takes
// its snapshot from, and the root volume settings against it.
func (c *Config) checkRootSource(ctx *check.Context, i int) {
	r, d := c.RootDevice, c.LaunchMappings[i]
	at := func(attr string) []string { return check.Path("launch_block_device_mappings", strconv.Itoa(i), attr) }
	switch {
	case d.OmitFromArtifact:
		ctx.Errorf(at("omit_from_artifact"), "Root source device omitted",
			"Device %q is the image's root source device (ami_root_device): it cannot be omitted from the image.", d.DeviceName)
	case d.VirtualName != "" || d.NoDevice:
		ctx.Errorf(check.Path("ami_root_device", "source_device_name"), "Root source device is not an EBS volume",
			"Device %q is an instance store or no_device mapping; the image's root device must be the snapshot of an EBS volume.", d.DeviceName)
	}
	if r.VolumeSize > 0 && d.VolumeSize > r.VolumeSize {
		ctx.Errorf(check.Path("ami_root_device", "volume_size"), "Root volume smaller than its snapshot",
			"volume_size %d GiB is smaller than the launch volume %q (%d GiB) whose snapshot it is made from.", r.VolumeSize, d.DeviceName, d.VolumeSize)
	}
	typ := r.VolumeType
	if typ == "" {
		typ = d.VolumeType
	}
	if r.IOPS > 0 && typ != "io1" && typ != "io2" && typ != "gp3" {
		ctx.Errorf(check.Path("ami_root_device", "iops"), "iops needs a provisioned volume type",
			"iops is only valid with volume_type io1, io2 or gp3, not %q.", typ)
	}
	for j, o := range c.LaunchMappings {
		if j != i && o.DeviceName == r.DeviceName && !o.OmitFromArtifact {
			ctx.Errorf(check.Path("launch_block_device_mappings", strconv.Itoa(j), "device_name"), "Launch device takes the root device's name",
				"Launch device %q would be mapped in the image under the name of its root device (ami_root_device device_name); set omit_from_artifact = true on it.", o.DeviceName)
		}
	}
}

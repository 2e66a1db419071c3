package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
)

// Register says how amazon-ebssurrogate makes its image: RegisterImage
// from snapshots of the instance's EBS launch volumes, instead of
// CreateImage from the instance. Nothing is inherited from the source
// image: the image has the attributes given here.
type Register struct {
	// Root is the image's root device.
	Root RootDevice
	// Omit lists the launch devices (omit_from_artifact) that are neither
	// snapshotted nor mapped in the image.
	Omit []string
	// VirtualizationType, Architecture, BootMode, UefiData and TPMSupport
	// are the image's, as RegisterImage takes them; empty ones are not
	// sent.
	VirtualizationType, Architecture, BootMode, UefiData, TPMSupport string
	// ENASupport (when set) and SriovNetSupport set the image's enhanced
	// networking.
	ENASupport      *bool
	SriovNetSupport bool
	// SnapshotDescription describes the snapshots; it may hold legacy
	// placeholders. Default: the device, volume and instance.
	SnapshotDescription string
}

// RootDevice is the root device of a registered image: the snapshot of
// the launch volume SourceDeviceName becomes the volume of DeviceName.
// VolumeType, VolumeSize and IOPS, when set, replace the launch volume's.
type RootDevice struct {
	SourceDeviceName, DeviceName string
	DeleteOnTermination          bool
	VolumeType                   string
	VolumeSize, IOPS             int
}

// snapshotDevices returns the launch devices to snapshot: the EBS ones
// the image maps.
func (r *Register) snapshotDevices(launch []amazon.BlockDevice) []string {
	var out []string
	for _, d := range launch {
		if d.VirtualName == "" && !d.NoDevice && !slices.Contains(r.Omit, d.DeviceName) {
			out = append(out, d.DeviceName)
		}
	}
	return out
}

// registerMappings returns the image's block device mappings:
// ami_block_device_mappings, overridden by the launch mappings of the same
// device name except those omitted. A snapshotted launch volume maps its
// snapshot (its encryption is then the snapshot's), and the root source
// device becomes the root device. Root first, then by device name.
func registerMappings(launch, ami []amazon.BlockDevice, r *Register, snaps map[string]string) []types.BlockDeviceMapping {
	byDevice := map[string]types.BlockDeviceMapping{}
	for _, d := range ami {
		byDevice[d.DeviceName] = mapping(d)
	}
	for _, d := range launch {
		if slices.Contains(r.Omit, d.DeviceName) {
			continue
		}
		m := mapping(d)
		if id, ok := snaps[d.DeviceName]; ok && m.Ebs != nil {
			m.Ebs.SnapshotId = aws.String(id)
			m.Ebs.Encrypted, m.Ebs.KmsKeyId = nil, nil
		}
		if d.DeviceName == r.Root.SourceDeviceName {
			m = rootMapping(m, r.Root)
		}
		byDevice[aws.ToString(m.DeviceName)] = m
	}
	out := make([]types.BlockDeviceMapping, 0, len(byDevice))
	for _, m := range byDevice {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b types.BlockDeviceMapping) int {
		an, bn := aws.ToString(a.DeviceName), aws.ToString(b.DeviceName)
		switch {
		case an == r.Root.DeviceName:
			return -1
		case bn == r.Root.DeviceName:
			return 1
		}
		return strings.Compare(an, bn)
	})
	return out
}

// rootMapping turns the mapping of the root source device into the
// image's root device mapping.
func rootMapping(m types.BlockDeviceMapping, r RootDevice) types.BlockDeviceMapping {
	m.DeviceName = aws.String(r.DeviceName)
	if m.Ebs == nil {
		return m
	}
	ebs := *m.Ebs
	ebs.DeleteOnTermination = aws.Bool(r.DeleteOnTermination)
	if r.VolumeType != "" && types.VolumeType(r.VolumeType) != ebs.VolumeType {
		ebs.VolumeType, ebs.Iops = types.VolumeType(r.VolumeType), nil
		if r.VolumeType != "gp3" {
			ebs.Throughput = nil
		}
	}
	if r.VolumeSize > 0 {
		ebs.VolumeSize = aws.Int32(int32(r.VolumeSize))
	}
	if r.IOPS > 0 {
		ebs.Iops = aws.Int32(int32(r.IOPS))
	}
	m.Ebs = &ebs
	return m
}

// registerImage registers the image from the volume snapshots in the
// build region, tagged at creation, journals it and waits until it is
// available; its snapshots are the volume snapshots, journaled already.
// Like createImage, it registers under a temporary name when the final
// image is made by finalizeRegion, and Cleanup removes the image (with
// its snapshots) when the build did not succeed or when it is
// intermediate.
type registerImage struct{ b *build }

// Run registers the image.
func (n *registerImage) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	if b.cfg.Register == nil {
		return fmt.Errorf("%s: register image: the build registers no image from snapshots", b.env.BuildName)
	}
	name, create, desc, intermediate, err := b.buildRegionName(ctx)
	if err != nil {
		return err
	}
	in, imgTags, snapTags, err := n.input(create, desc)
	if err != nil {
		return fmt.Errorf("register image %q in %s: %w", name, region, err)
	}
	rec := &b.st.built
	rec.Intermediate = intermediate
	for _, s := range b.st.volumeSnaps {
		rec.Snapshots = append(rec.Snapshots, s.ID)
	}
	b.say("registering image %q from snapshots %v in %s", create, rec.Snapshots, region)
	err = b.makeImage(ctx, imageCall{
		what:   fmt.Sprintf("register image %q in %s", create, region),
		region: region, name: create, tags: imgTags, snapTags: snapTags,
		create: func(ctx context.Context) (string, error) {
			out, err := b.ec2(region).RegisterImage(ctx, in, fewAttempts)
			if err != nil {
				return "", fmt.Errorf("register image %q from snapshots %v in %s: %w", create, rec.Snapshots, region, err)
			}
			return aws.ToString(out.ImageId), nil
		},
	}, rec)
	if err != nil {
		return err
	}
	b.say("image %s (%s) available in %s", rec.ID, create, region)
	return nil
}

// input returns the RegisterImage request and the image's and snapshots'
// tags. RegisterImage tags only the image: the snapshots were tagged when
// they were made.
func (n *registerImage) input(name, desc string) (*ec2.RegisterImageInput, map[string]string, map[string]string, error) {
	b, r := n.b, n.b.cfg.Register
	imgTags, snapTags, err := b.tagger().image(b.cfg.Region)
	if err != nil {
		return nil, nil, nil, err
	}
	snaps := map[string]string{}
	for _, s := range b.st.volumeSnaps {
		snaps[s.Device] = s.ID
	}
	in := &ec2.RegisterImageInput{
		Name: aws.String(name), Description: optional(desc),
		RootDeviceName:      aws.String(r.Root.DeviceName),
		BlockDeviceMappings: registerMappings(b.cfg.LaunchBlockDevices, b.cfg.AMIBlockDevices, r, snaps),
		VirtualizationType:  optional(r.VirtualizationType),
		Architecture:        types.ArchitectureValues(r.Architecture),
		BootMode:            types.BootModeValues(r.BootMode),
		UefiData:            optional(r.UefiData),
		TpmSupport:          types.TpmSupportValues(r.TPMSupport),
		ImdsSupport:         types.ImdsSupportValues(b.cfg.AMIIMDSSupport),
		EnaSupport:          r.ENASupport,
		TagSpecifications:   []types.TagSpecification{tagSpec(types.ResourceTypeImage, imgTags)},
	}
	if r.SriovNetSupport {
		in.SriovNetSupport = aws.String("simple")
	}
	return in, imgTags, snapTags, nil
}

// Cleanup removes the image and its snapshots when the build did not
// succeed or when it was only intermediate, unless join committed it.
func (n *registerImage) Cleanup(ctx context.Context) error {
	return n.b.cleanupBuilt(ctx)
}

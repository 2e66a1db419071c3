package amazon

import (
	"slices"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator"
)

// SourceConfig is the configuration every amazon builder shares: access,
// AMI, run, block devices, communicator and timeouts, squashed into one
// flat body.
//
// Access, communicator and timeout settings do not change what is in the
// image: they are left out of the build's fingerprint.
type SourceConfig struct {
	AccessConfig `fingerprint:"-"`
	AMIConfig
	RunConfig
	BlockDevices
	communicator.Config `fingerprint:"-"`

	// Timeouts sets the deadline of each kind of wait.
	Timeouts Timeouts `hcl:"timeouts,block" fingerprint:"-"`
}

// Prepare fills defaults and checks the shared configuration. Settings
// this version cannot honour are refused first, before any default hides
// whether a template set them.
func (c *SourceConfig) Prepare(ctx *check.Context) {
	c.RunConfig.refuseUnimplemented(ctx)
	c.AccessConfig.Prepare(ctx)
	c.AccessConfig.PrepareRegion(ctx)
	c.AMIConfig.Prepare(ctx, c.Region)
	c.RunConfig.Prepare(ctx)
	c.BlockDevices.Prepare(ctx)
	c.Config.Prepare(ctx)
	c.prepareKeyFiles(ctx)
	c.prepareSourceCIDRs(ctx)
	// timeouts.ssh bounds the connection of either communicator; its
	// default is that communicator's own timeout.
	commTimeout := c.SSHTimeout
	if c.Type == communicator.WinRM {
		commTimeout = c.WinRMTimeout
	}
	c.Timeouts.Prepare(ctx, commTimeout)
	c.prepareVirtualization(ctx)
}

// prepareVirtualization applies Packer's rule for amazon-ebs: enhanced
// networking (ena_support = true or sriov_support) needs an HVM image, so
// it cannot go with ami_virtualization_type = "paravirtual". The image's
// type itself comes from the source AMI, which the build checks against
// ami_virtualization_type before launching.
func (c *SourceConfig) prepareVirtualization(ctx *check.Context) {
	ena := c.AMIENASupport != nil && *c.AMIENASupport
	if c.AMIVirtType == "paravirtual" && (ena || c.AMISriovNetSupport) {
		ctx.Errorf(check.Path("ami_virtualization_type"), "Enhanced networking needs hvm",
			"ena_support = true and sriov_support need an HVM image; ami_virtualization_type is \"paravirtual\".")
	}
}

// ParentBuild returns source_build and the build region: a build with a
// source_build launches from that build's image in its own region.
func (c *SourceConfig) ParentBuild() (name, region string) { return c.SourceBuild, c.Region }

// ImageRegions returns the regions the source's images land in: the
// build region and ami_regions, without duplicates.
func (c *SourceConfig) ImageRegions() []string {
	out := []string{c.Region}
	for _, r := range c.AMIRegions {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// Package ebs is the amazon-ebs builder: it launches an instance from a
// source AMI, provisions it, and creates an EBS-backed AMI from it.
package ebs

import (
	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/check"
)

// Config is the configuration of a source "amazon-ebs" block.
type Config struct {
	amazon.SourceConfig

	// SkipCreateAMI runs the build (and its provisioners) without creating
	// an AMI, for testing. Default: false.
	SkipCreateAMI bool `hcl:"skip_create_ami"`
	// SkipAMIRunTags stops run_tags from also being applied to the AMI and
	// its snapshots. Default: false.
	SkipAMIRunTags bool `hcl:"skip_ami_run_tags" fingerprint:"-"`
	// RunVolumeTags are applied to the volumes of the build instance;
	// values may hold legacy placeholders.
	RunVolumeTags map[string]string `hcl:"run_volume_tags" fingerprint:"-"`
	// NoEphemeral removes the source AMI's instance store mappings from
	// the launch so the image has none. Default: false.
	NoEphemeral bool `hcl:"no_ephemeral"`
	// NoReboot creates the image without stopping or rebooting the
	// instance; file system consistency is then not guaranteed.
	// Default: false.
	NoReboot bool `hcl:"no_reboot"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.SourceConfig.Prepare(ctx)
	c.RunVolumeTags = amazon.MergeTags(ctx, "run_volume_tags", c.RunVolumeTags, nil)
	// As in Packer: ena_support and sriov_support are set on the stopped
	// instance, and EC2 cannot stop a one-time spot instance.
	for _, s := range []struct {
		name string
		set  bool
	}{{"ena_support", c.AMIENASupport != nil}, {"sriov_support", c.AMISriovNetSupport}} {
		if s.set && c.IsSpotInstance() {
			ctx.Errorf(check.Path(s.name), "Spot instances cannot take "+s.name,
				"%s is set on the stopped build instance, and EC2 cannot stop a one-time spot instance: "+
					"remove it (start from an AMI that already has the feature) or remove spot_price.", s.name)
		}
	}
	if c.NoReboot && c.DisableStopInstance {
		ctx.Warnf(check.Path("no_reboot"), "no_reboot with disable_stop_instance",
			"The instance is neither stopped by imgbuild nor rebooted for the image; make sure a provisioner leaves the file systems consistent.")
	}
}

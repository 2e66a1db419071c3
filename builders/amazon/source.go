package amazon

import (
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator"
)

// SourceConfig is the configuration every amazon builder shares: access,
// AMI, run, block devices, communicator and timeouts, squashed into one
// flat body.
type SourceConfig struct {
	AccessConfig
	AMIConfig
	RunConfig
	BlockDevices
	communicator.Config

	// Timeouts sets the deadline of each kind of wait.
	Timeouts Timeouts `hcl:"timeouts,block"`
}

// Prepare fills defaults and checks the shared configuration.
func (c *SourceConfig) Prepare(ctx *check.Context) {
	c.AccessConfig.Prepare(ctx)
	c.AMIConfig.Prepare(ctx, c.Region)
	c.RunConfig.Prepare(ctx)
	c.BlockDevices.Prepare(ctx)
	c.Config.Prepare(ctx)
	comm := c.SSHTimeout
	if c.Type == communicator.WinRM {
		comm = c.WinRMTimeout
	}
	c.Timeouts.Prepare(ctx, comm)
}

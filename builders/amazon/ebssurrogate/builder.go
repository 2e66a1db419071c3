package ebssurrogate

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/builders/amazon/steps"
	"github.com/imgbuild/imgbuild/internal/builder"
)

// Type is the source type of this builder.
const Type = "amazon-ebssurrogate"

// Builder is the amazon-ebssurrogate builder. It composes the shared
// amazon steps: launch, provision, stop, snapshot the launch volumes and
// register the image from them, then copy and finalise it in every region
// as amazon-ebs does.
type Builder struct{}

var _ builder.Builder = Builder{}

// Plan adds the steps of one amazon-ebssurrogate build to p: up to the
// running instance, the provisioners in order, the stop (or the wait for
// the instance to stop itself), the snapshots and the registered image,
// its regions and the join; the post-processors run last.
func (Builder) Plan(cfg any, p builder.Planner) error {
	c, err := config(cfg)
	if err != nil {
		return err
	}
	src := c.steps().SourceConfig
	if last := steps.PlanExisting(p, &src); last != nil {
		p.PostProcessors(last)
		return nil
	}
	last := p.Provisioners(steps.PlanLaunch(p, &src))
	last = steps.PlanStop(p, &src, last)
	image := steps.PlanRegisterImage(p, &src, last)
	p.PostProcessors(steps.PlanRegions(p, &src, image))
	return nil
}

// Start returns the running amazon-ebssurrogate build of cfg in env.
func (Builder) Start(ctx context.Context, env *builder.Env, cfg any) (builder.Build, error) {
	c, err := config(cfg)
	if err != nil {
		return nil, err
	}
	return steps.NewBuild(ctx, env, c.steps())
}

// steps returns what the shared steps read of the configuration. The
// image's virtualization type and enhanced networking go to RegisterImage
// only: unlike an amazon-ebs image, a registered image inherits nothing
// from the source image or the surrogate instance, so the shared steps
// neither check them against the source nor set them on the instance.
func (c *Config) steps() *steps.Config {
	src := c.source()
	src.AMIVirtType, src.AMIENASupport, src.AMISriovNetSupport = "", nil, false
	var omit []string
	for _, d := range c.LaunchMappings {
		if d.OmitFromArtifact {
			omit = append(omit, d.DeviceName)
		}
	}
	r := c.RootDevice
	return &steps.Config{
		SourceConfig: src, BuilderType: Type,
		SkipAMIRunTags: c.SkipAMIRunTags, RunVolumeTags: c.RunVolumeTags,
		Register: &steps.Register{
			Root: steps.RootDevice{
				SourceDeviceName: r.SourceDeviceName, DeviceName: r.DeviceName, DeleteOnTermination: r.DeleteOnTermination,
				VolumeType: r.VolumeType, VolumeSize: r.VolumeSize, IOPS: r.IOPS,
			},
			Omit:               omit,
			VirtualizationType: c.AMIVirtType, Architecture: c.Architecture,
			BootMode: c.BootMode, UefiData: c.UefiData, TPMSupport: c.TPMSupport,
			ENASupport: c.AMIENASupport, SriovNetSupport: c.AMISriovNetSupport,
			SnapshotDescription: c.SnapshotDescription,
		},
	}
}

func config(cfg any) (*Config, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("%s builder: got a %T configuration, want *ebssurrogate.Config", Type, cfg)
	}
	return c, nil
}

package ebs

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/builders/amazon/steps"
	"github.com/imgbuild/imgbuild/internal/builder"
)

// Type is the source type of this builder.
const Type = "amazon-ebs"

// Builder is the amazon-ebs builder. It composes the shared amazon steps:
// launch, provision, stop (unless no_reboot), create the image, then copy
// and finalise it in every region.
type Builder struct{}

var _ builder.Builder = Builder{}

// Plan adds the steps of one amazon-ebs build to p: up to the running
// instance, the provisioners in order, and unless skip_create_ami the stop,
// the image, its regions and the join; the post-processors run last.
func (Builder) Plan(cfg any, p builder.Planner) error {
	c, err := config(cfg)
	if err != nil {
		return err
	}
	src := &c.SourceConfig
	if last := steps.PlanExisting(p, src); last != nil {
		p.PostProcessors(last)
		return nil
	}
	last := p.Provisioners(steps.PlanLaunch(p, src))
	if c.SkipCreateAMI {
		p.PostProcessors(last)
		return nil
	}
	if !c.NoReboot {
		last = steps.PlanStop(p, src, last)
	}
	image := steps.PlanCreateImage(p, src, last)
	p.PostProcessors(steps.PlanRegions(p, src, image))
	return nil
}

// Start returns the running amazon-ebs build of cfg in env.
func (Builder) Start(ctx context.Context, env *builder.Env, cfg any) (builder.Build, error) {
	c, err := config(cfg)
	if err != nil {
		return nil, err
	}
	return steps.NewBuild(ctx, env, c.steps())
}

// steps returns what the shared steps read of the configuration.
func (c *Config) steps() *steps.Config {
	return &steps.Config{
		SourceConfig: c.SourceConfig, BuilderType: Type,
		SkipAMIRunTags: c.SkipAMIRunTags, RunVolumeTags: c.RunVolumeTags,
		NoEphemeral: c.NoEphemeral, NoReboot: c.NoReboot,
	}
}

func config(cfg any) (*Config, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("%s builder: got a %T configuration, want *ebs.Config", Type, cfg)
	}
	return c, nil
}

package instance

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/builders/amazon/steps"
	"github.com/imgbuild/imgbuild/internal/builder"
)

// Type is the source type of this builder.
const Type = "amazon-instance"

// Builder is the amazon-instance builder. It composes the shared amazon
// steps with the instance-store ones: check the account and bucket,
// launch, provision, bundle the instance into S3, register the bundle,
// then copy and finalise the image in every region.
type Builder struct{}

var _ builder.Builder = Builder{}

// Plan adds the steps of one amazon-instance build to p. The instance is
// bundled while it runs, as ec2-bundle-vol does: there is no stop step.
func (Builder) Plan(cfg any, p builder.Planner) error {
	c, err := config(cfg)
	if err != nil {
		return err
	}
	src, bc := &c.SourceConfig, c.bundle()
	if last := steps.PlanExisting(p, src); last != nil {
		p.PostProcessors(last)
		return nil
	}
	last := p.Provisioners(steps.PlanLaunch(p, src, steps.CheckBucketStep(src, bc)))
	image := steps.PlanBundle(p, src, bc, last)
	p.PostProcessors(steps.PlanRegions(p, src, image))
	return nil
}

// Start returns the running amazon-instance build of cfg in env.
func (Builder) Start(ctx context.Context, env *builder.Env, cfg any) (builder.Build, error) {
	c, err := config(cfg)
	if err != nil {
		return nil, err
	}
	return steps.NewBuild(ctx, env, &steps.Config{SourceConfig: c.SourceConfig, BuilderType: Type, Bundle: c.bundle()})
}

// bundle returns what the instance-store steps read.
func (c *Config) bundle() *steps.Bundle {
	bucket, prefix := steps.SplitBucket(c.S3Bucket)
	return &steps.Bundle{
		AccountID: c.AccountID, Bucket: bucket, KeyPrefix: prefix, Prefix: c.BundlePrefix,
		CertPath: c.X509CertPath, KeyPath: c.X509KeyPath, EC2CertPath: c.EC2CertPath,
		Tools: c.Tools(), VolCommand: c.BundleVolCommand, UploadCommand: c.BundleUploadCommand,
		UploadPath: c.X509UploadPath, Destination: c.BundleDestination,
	}
}

func config(cfg any) (*Config, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("%s builder: got a %T configuration, want *instance.Config", Type, cfg)
	}
	return c, nil
}

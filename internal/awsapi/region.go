package awsapi

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// ResolveRegion returns the region a Session for a would use: a.Region,
// else what the SDK finds in the environment (AWS_REGION,
// AWS_DEFAULT_REGION) or in the shared config files for the profile
// (a.Profile, AWS_PROFILE, else "default"; AWS_CONFIG_FILE). It reads only
// the environment and local files, never the network, so validate can call
// it. It returns "" when nothing names a region.
func ResolveRegion(ctx context.Context, a Access) (string, error) {
	if a.Region != "" {
		return a.Region, nil
	}
	// Legacy defaults and no instance metadata client: nothing here may
	// reach the network (the "auto" defaults mode would ask the IMDS).
	opts := append(a.loadOptions(), config.WithDefaultsMode(aws.DefaultsModeLegacy),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return "", a.scrubError(fmt.Errorf("load aws configuration (%s): %w", a.credentialSource(), err))
	}
	return cfg.Region, nil
}

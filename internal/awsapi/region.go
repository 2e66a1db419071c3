package awsapi

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
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
	cfg, err := a.loadOffline(ctx)
	if err != nil {
		return "", err
	}
	return cfg.Region, nil
}

// ResolveEC2Endpoint returns the EC2 endpoint a Session for a sends to:
// a.CustomEndpointEC2, else what the SDK finds in the environment
// (AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL) or the shared config file's
// profile (endpoint_url, its services section). Like ResolveRegion it
// reads only the environment and local files. "" means AWS's own.
func ResolveEC2Endpoint(ctx context.Context, a Access) (string, error) {
	if a.CustomEndpointEC2 != "" {
		return EndpointURL(a.CustomEndpointEC2), nil
	}
	cfg, err := a.loadOffline(ctx)
	if err != nil {
		return "", err
	}
	return aws.ToString(ec2.NewFromConfig(cfg).Options().BaseEndpoint), nil
}

// loadOffline loads the SDK configuration for a from the environment and
// the shared files only: legacy defaults and no instance metadata client,
// so nothing here reaches the network (the "auto" defaults mode would ask
// the IMDS).
func (a Access) loadOffline(ctx context.Context) (aws.Config, error) {
	opts := append(a.loadOptions(), config.WithDefaultsMode(aws.DefaultsModeLegacy),
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, a.scrubError(fmt.Errorf("load aws configuration (%s): %w", a.credentialSource(), err))
	}
	return cfg, nil
}

// IsLoopbackEndpoint reports whether an endpoint URL names a loopback
// host (an emulator on this machine, such as the local cloud).
func IsLoopbackEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

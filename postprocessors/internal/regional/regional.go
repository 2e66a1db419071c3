// Package regional holds what the AWS post-processors share: the access
// settings, which name no region because the regions are those of the
// artifact's images, and the fan-out of one action per region.
package regional

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/check"
)

// Access says how a post-processor reaches AWS. It is the builders'
// access configuration without aws_polling and the settings imgbuild does
// not implement, and with an optional region: the post-processor acts in
// the regions of the artifact's images. Credentials not given here come
// from the standard AWS credential chain.
type Access struct {
	// Region is the region of the credential check (sts
	// GetCallerIdentity). Default: the first region of the artifact.
	Region string `hcl:"region"`
	// AccessKey is an AWS access key ID. Default: the credential chain.
	AccessKey string `hcl:"access_key" sensitive:"true"`
	// SecretKey is the secret access key paired with access_key. Sensitive.
	SecretKey string `hcl:"secret_key" sensitive:"true"`
	// Token is an STS session token for temporary credentials. Sensitive.
	Token string `hcl:"token" sensitive:"true"`
	// Profile is a named profile of the shared configuration files.
	Profile string `hcl:"profile"`
	// SharedCredentialsFile is the path of the shared credentials file.
	// Default: ~/.aws/credentials.
	SharedCredentialsFile string `hcl:"shared_credentials_file"`
	// AssumeRole assumes an IAM role with the credentials above.
	AssumeRole amazon.AssumeRole `hcl:"assume_role,block"`
	// CustomEndpointEC2 overrides the EC2 endpoint URL. The standard
	// AWS_ENDPOINT_URL_EC2 variable does the same.
	CustomEndpointEC2 string `hcl:"custom_endpoint_ec2"`
	// SkipMetadataAPICheck stops the credential chain from asking the EC2
	// instance metadata service. Default: false.
	SkipMetadataAPICheck bool `hcl:"skip_metadata_api_check"`
	// SkipCredentialValidation skips the sts:GetCallerIdentity call that
	// checks credentials first. Default: false.
	SkipCredentialValidation bool `hcl:"skip_credential_validation"`
	// MaxRetries is the maximum number of retries of one AWS call,
	// including throttling. Default: 10; at least 0.
	MaxRetries int `hcl:"max_retries"`

	// SessionOptions are added to the session's options (tests count
	// calls with them). Not configuration.
	SessionOptions []awsapi.Option `hcl:"-"`
}

// amazon returns the settings as the builders' access configuration.
func (c *Access) amazon() amazon.AccessConfig {
	return amazon.AccessConfig{
		Region: c.Region, AccessKey: c.AccessKey, SecretKey: c.SecretKey, Token: c.Token,
		Profile: c.Profile, SharedCredentialsFile: c.SharedCredentialsFile, AssumeRole: c.AssumeRole,
		CustomEndpointEC2: c.CustomEndpointEC2, SkipMetadataAPICheck: c.SkipMetadataAPICheck,
		SkipCredentialValidation: c.SkipCredentialValidation, MaxRetries: c.MaxRetries,
	}
}

// Prepare fills defaults and checks the settings offline, as the
// builders do.
func (c *Access) Prepare(ctx *check.Context) {
	ac := c.amazon()
	ac.Prepare(ctx)
	c.MaxRetries = ac.MaxRetries
}

// Session opens an AWS session for a; its default region is region, or
// the first region of a's images.
func (c *Access) Session(ctx context.Context, env *artifact.Env, a *artifact.Artifact) (*awsapi.Session, error) {
	ac := c.amazon()
	if ac.Region == "" && len(a.Images) > 0 {
		ac.Region = a.Images[0].Region
	}
	opts := append([]awsapi.Option(nil), c.SessionOptions...)
	if env != nil && env.Logger != nil {
		opts = append(opts, awsapi.WithLogger(env.Logger))
	}
	s, err := awsapi.NewSession(ctx, ac.Access(), opts...)
	if err != nil {
		return nil, fmt.Errorf("aws session: %w", err)
	}
	return s, nil
}

// Each calls fn for every image of a, one goroutine per region, and
// returns the results in the order of a.Images (sorted by region). A
// region's failure does not stop the others: the errors of all regions
// are returned together, in region order.
func Each[T any](ctx context.Context, a *artifact.Artifact, fn func(ctx context.Context, im artifact.Image) (T, error)) ([]T, error) {
	a.Sort()
	out := make([]T, len(a.Images))
	errs := make([]error, len(a.Images))
	var g errgroup.Group
	for i, im := range a.Images {
		g.Go(func() error {
			out[i], errs[i] = fn(ctx, im)
			return nil
		})
	}
	_ = g.Wait()
	return out, errors.Join(errs...)
}

// NewImage is how lines name a planned image that does not exist yet.
const NewImage = "(new image)"

// ImageLabel returns the image's ID, or NewImage when it is still to be
// made (imgbuild plan).
func ImageLabel(im artifact.Image) string {
	if im.ImageID == "" {
		return NewImage
	}
	return im.ImageID
}

// Lines joins per-region lines in order.
func Lines(per [][]string) []string {
	var out []string
	for _, l := range per {
		out = append(out, l...)
	}
	return out
}

// Print writes lines to env.Out, one per line, prefixed with the
// post-processor's name.
func Print(env *artifact.Env, name string, lines []string) {
	if env == nil || env.Out == nil {
		return
	}
	for _, l := range lines {
		fmt.Fprintf(env.Out, "%s: %s\n", name, l)
	}
}

package awsapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// Access says how to reach AWS: region, credentials and endpoints. The
// builders map their HCL access configuration into it. The zero value uses
// the SDK's default credential chain and region resolution.
type Access struct {
	// Region is the default region of the Session's clients.
	Region string
	// Profile names a profile in the shared config and credentials files.
	Profile string
	// AccessKey, SecretKey and Token are static credentials. They are
	// never logged or put into errors.
	AccessKey, SecretKey, Token string
	// SharedCredentialsFile replaces the default ~/.aws/credentials.
	SharedCredentialsFile string
	// CustomEndpointEC2 is the EC2 endpoint URL. It overrides
	// AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL for EC2 only.
	CustomEndpointEC2 string
	// AssumeRole, when set, assumes a role with the credentials above.
	AssumeRole *AssumeRole
	// MaxRetries is the number of attempts per API call, the first included
	// (0 means DefaultMaxRetries). AWS_MAX_ATTEMPTS is ignored: Packer users
	// set it to lengthen waits, which imgbuild configures with Timeouts.
	MaxRetries int
	// SkipCredentialValidation skips the sts GetCallerIdentity check.
	SkipCredentialValidation bool
	// SkipMetadataAPICheck disables the EC2 instance metadata service, as a
	// credential source and for region discovery.
	SkipMetadataAPICheck bool
}

// AssumeRole configures an sts AssumeRole on top of the Access credentials.
type AssumeRole struct {
	// RoleARN is the role to assume; empty means no AssumeRole.
	RoleARN string
	// DurationSeconds is the session lifetime (0: the STS default, 1 h).
	DurationSeconds int
	// ExternalID is passed when the role's trust policy requires one.
	ExternalID string
	// Policy is an inline session policy (JSON).
	Policy string
	// PolicyARNs are managed session policies.
	PolicyARNs []string
	// SessionName names the session in CloudTrail (empty: SDK default).
	SessionName string
	// Tags are session tags, sent sorted by key.
	Tags map[string]string
	// TransitiveTagKeys are the session tags kept across role chaining.
	TransitiveTagKeys []string
}

// String describes a without its secrets, so Access is safe to log.
func (a Access) String() string {
	return fmt.Sprintf("awsapi.Access{Region: %q, Credentials: %s, CustomEndpointEC2: %q}",
		a.Region, a.credentialSource(), a.CustomEndpointEC2)
}

// GoString is String, so %#v does not print secrets either.
func (a Access) GoString() string { return a.String() }

// credentialSource says, in words for the user, which credentials a tries.
func (a Access) credentialSource() string {
	var base string
	switch {
	case a.AccessKey != "" || a.SecretKey != "":
		base = fmt.Sprintf("static access_key %s and secret_key", maskKey(a.AccessKey))
	case a.Profile != "":
		base = fmt.Sprintf("profile %q", a.Profile)
	default:
		base = "the default credential chain (environment variables, shared config and " +
			"credentials files, SSO, web identity, container and instance metadata)"
	}
	if a.Profile == "" && a.SharedCredentialsFile != "" && a.AccessKey == "" {
		base += fmt.Sprintf(" with credentials file %s", a.SharedCredentialsFile)
	}
	if a.AssumeRole != nil && a.AssumeRole.RoleARN != "" {
		return fmt.Sprintf("assume role %s using %s", a.AssumeRole.RoleARN, base)
	}
	return base
}

// maskKey keeps the last four characters of an access key ID.
func maskKey(k string) string {
	if len(k) <= 4 {
		return "****"
	}
	return "****" + k[len(k)-4:]
}

// loadConfig loads the SDK configuration for a.
func (a Access) loadConfig(ctx context.Context, httpClient aws.HTTPClient) (aws.Config, error) {
	if (a.AccessKey == "") != (a.SecretKey == "") {
		return aws.Config{}, errors.New("access_key and secret_key must be set together")
	}
	opts := a.loadOptions()
	if httpClient != nil {
		opts = append(opts, config.WithHTTPClient(httpClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws configuration (%s): %w", a.credentialSource(), err)
	}
	// Our retryer's attempts win over AWS_MAX_ATTEMPTS (see MaxRetries).
	cfg.RetryMaxAttempts = 0
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no aws region: set region in the template or AWS_REGION")
	}
	if a.AssumeRole != nil && a.AssumeRole.RoleARN != "" {
		cfg.Credentials = aws.NewCredentialsCache(a.AssumeRole.provider(cfg))
	}
	return cfg, nil
}

// loadOptions maps a onto config.LoadDefaultConfig options. Endpoints are
// left to the SDK so AWS_ENDPOINT_URL[_<SERVICE>] keep working.
func (a Access) loadOptions() []func(*config.LoadOptions) error {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(a.MaxRetries) }),
	}
	if a.Region != "" {
		opts = append(opts, config.WithRegion(a.Region))
	}
	if a.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.Profile))
	}
	if a.SharedCredentialsFile != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{a.SharedCredentialsFile}))
	}
	if a.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(a.AccessKey, a.SecretKey, a.Token)))
	}
	if a.SkipMetadataAPICheck {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	return opts
}

// provider returns the stscreds provider that assumes r with cfg's
// credentials. STS is reached like any other service, so
// AWS_ENDPOINT_URL_STS applies.
func (r *AssumeRole) provider(cfg aws.Config) aws.CredentialsProvider {
	return stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), r.RoleARN,
		func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = r.SessionName
			if r.DurationSeconds > 0 {
				o.Duration = time.Duration(r.DurationSeconds) * time.Second
			}
			if r.ExternalID != "" {
				o.ExternalID = aws.String(r.ExternalID)
			}
			if r.Policy != "" {
				o.Policy = aws.String(r.Policy)
			}
			for _, arn := range r.PolicyARNs {
				o.PolicyARNs = append(o.PolicyARNs, ststypes.PolicyDescriptorType{Arn: aws.String(arn)})
			}
			for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
				o.Tags = append(o.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(r.Tags[k])})
			}
			o.TransitiveTagKeys = r.TransitiveTagKeys
		})
}

// secrets returns the values that must never appear in errors or logs.
func (a Access) secrets() []string {
	var s []string
	for _, v := range []string{a.SecretKey, a.Token, a.AccessKey} {
		if strings.TrimSpace(v) != "" {
			s = append(s, v)
		}
	}
	return s
}

package amazon

import (
	"maps"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// Access maps the access configuration into an awsapi.Access, for
// awsapi.NewSession. max_retries is passed as is: like Packer, imgbuild
// counts it as attempts per call, and 0 means awsapi.DefaultMaxRetries.
// An assume_role {} block without role_arn adds no AssumeRole. Settings
// awsapi cannot honour are listed by UnsupportedSettings.
func (c *AccessConfig) Access() awsapi.Access {
	a := awsapi.Access{
		Region:                   c.Region,
		Profile:                  c.Profile,
		AccessKey:                c.AccessKey,
		SecretKey:                c.SecretKey,
		Token:                    c.Token,
		SharedCredentialsFile:    c.SharedCredentialsFile,
		CustomEndpointEC2:        c.CustomEndpointEC2,
		MaxRetries:               c.MaxRetries,
		SkipCredentialValidation: c.SkipCredentialValidation,
		SkipMetadataAPICheck:     c.SkipMetadataAPICheck,
	}
	if r := c.AssumeRole; r.RoleARN != "" {
		a.AssumeRole = &awsapi.AssumeRole{
			RoleARN:           r.RoleARN,
			DurationSeconds:   r.DurationSeconds,
			ExternalID:        r.ExternalID,
			Policy:            r.Policy,
			PolicyARNs:        append([]string(nil), r.PolicyARNs...),
			SessionName:       r.SessionName,
			Tags:              maps.Clone(r.Tags),
			TransitiveTagKeys: append([]string(nil), r.TransitiveTagKeys...),
		}
	}
	return a
}

// Polling returns the aws_polling {} block as an awsapi.Polling, or nil
// when the block sets nothing, so each wait keeps its default.
func (c *AccessConfig) Polling() *awsapi.Polling {
	p := c.AWSPolling
	if p.MaxAttempts == 0 && p.DelaySeconds == 0 {
		return nil
	}
	return &awsapi.Polling{MaxAttempts: p.MaxAttempts, DelaySeconds: p.DelaySeconds}
}

// UnsupportedSettings returns the HCL names of the access settings that
// are set but that Access cannot carry (vault_aws_engine, mfa_code,
// insecure_skip_tls_verify, decode_authorization_messages), so callers can
// refuse them instead of silently using other credentials.
func (c *AccessConfig) UnsupportedSettings() []string {
	var names []string
	if c.VaultAWSEngine.Name != "" {
		names = append(names, "vault_aws_engine")
	}
	if c.MFACode != "" {
		names = append(names, "mfa_code")
	}
	if c.InsecureSkipTLSVerify {
		names = append(names, "insecure_skip_tls_verify")
	}
	if c.DecodeAuthorizationMessages {
		names = append(names, "decode_authorization_messages")
	}
	return names
}

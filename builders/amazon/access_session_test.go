package amazon

import (
	"reflect"
	"testing"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

func TestAccess(t *testing.T) {
	tests := []struct {
		name string
		c    AccessConfig
		want awsapi.Access
	}{
		{"defaults", AccessConfig{Region: "us-east-1", MaxRetries: 10}, awsapi.Access{Region: "us-east-1", MaxRetries: 10}},
		{
			"static keys and endpoint",
			AccessConfig{Region: "eu-west-1", AccessKey: "AKIAEXAMPLE", SecretKey: "s3cret", Token: "tok",
				CustomEndpointEC2: "http://127.0.0.1:5000", MaxRetries: 3, SkipCredentialValidation: true, SkipMetadataAPICheck: true},
			awsapi.Access{Region: "eu-west-1", AccessKey: "AKIAEXAMPLE", SecretKey: "s3cret", Token: "tok",
				CustomEndpointEC2: "http://127.0.0.1:5000", MaxRetries: 3, SkipCredentialValidation: true, SkipMetadataAPICheck: true},
		},
		{
			"profile and credentials file",
			AccessConfig{Region: "us-west-2", Profile: "build", SharedCredentialsFile: "/tmp/creds"},
			awsapi.Access{Region: "us-west-2", Profile: "build", SharedCredentialsFile: "/tmp/creds"},
		},
		{
			"assume role",
			AccessConfig{Region: "us-east-1", AssumeRole: AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/build",
				DurationSeconds: 900, ExternalID: "ext", Policy: "{}", PolicyARNs: []string{"arn:p"}, SessionName: "s",
				Tags: map[string]string{"team": "img"}, TransitiveTagKeys: []string{"team"}}},
			awsapi.Access{Region: "us-east-1", AssumeRole: &awsapi.AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/build",
				DurationSeconds: 900, ExternalID: "ext", Policy: "{}", PolicyARNs: []string{"arn:p"}, SessionName: "s",
				Tags: map[string]string{"team": "img"}, TransitiveTagKeys: []string{"team"}}},
		},
		{
			"assume role block without role",
			AccessConfig{Region: "us-east-1", AssumeRole: AssumeRole{SessionName: "s"}},
			awsapi.Access{Region: "us-east-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Access(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Access() = %+v %+v, want %+v %+v", got, got.AssumeRole, tt.want, tt.want.AssumeRole)
			}
		})
	}
}

func TestPolling(t *testing.T) {
	tests := []struct {
		name string
		p    AWSPolling
		want *awsapi.Polling
	}{
		{"unset", AWSPolling{}, nil},
		{"attempts only", AWSPolling{MaxAttempts: 40}, &awsapi.Polling{MaxAttempts: 40}},
		{"both", AWSPolling{MaxAttempts: 40, DelaySeconds: 5}, &awsapi.Polling{MaxAttempts: 40, DelaySeconds: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := AccessConfig{AWSPolling: tt.p}
			if got := c.Polling(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Polling() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestUnsupportedSettings(t *testing.T) {
	c := AccessConfig{VaultAWSEngine: VaultAWSEngine{Name: "r"}, MFACode: "123456", InsecureSkipTLSVerify: true, DecodeAuthorizationMessages: true}
	want := []string{"vault_aws_engine", "mfa_code", "insecure_skip_tls_verify", "decode_authorization_messages"}
	if got := c.UnsupportedSettings(); !reflect.DeepEqual(got, want) {
		t.Errorf("UnsupportedSettings() = %v, want %v", got, want)
	}
	if got := (&AccessConfig{Region: "us-east-1"}).UnsupportedSettings(); got != nil {
		t.Errorf("UnsupportedSettings() of a plain config = %v", got)
	}
}

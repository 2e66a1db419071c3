package parameterstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/datasource/parameterstore"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestEvaluateLocalCloud reads a String and a SecureString parameter from
// the local cloud through an awsapi.Session, as the CLI does.
func TestEvaluateLocalCloud(t *testing.T) {
	s, err := localcloud.ProfileSettings("instant")
	if err != nil {
		t.Fatal(err)
	}
	s.SSH = false
	cloud := testenv.LocalCloud(t, s)
	for _, kv := range cloud.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // the SDK reads the process environment
	}
	ctx := context.Background()
	c := ssm.NewFromConfig(testenv.AWSConfig(cloud.URL(), localcloud.Region))
	put := func(name, value string, typ types.ParameterType) {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(true)})
		if err != nil {
			t.Fatalf("put parameter %s: %v", name, err)
		}
	}
	put("/images/base", "ami-0000000000000001", types.ParameterTypeString)
	put("/images/base", "ami-0000000000000002", types.ParameterTypeString)
	put("/images/secret", "hunter2", types.ParameterTypeSecureString)

	access := amazon.AccessConfig{Region: localcloud.Region}
	sess, err := awsapi.NewSession(ctx, access.Access())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, param string
		decrypt     bool
		value, ver  string
		secure      bool
		wantErr     string
	}{
		{"string, second version", "/images/base", false, "ami-0000000000000002", "2", false, ""},
		{"secure string decrypted", "/images/secret", true, "hunter2", "1", true, ""},
		{"missing", "/images/none", false, "", "", false, "parameter /images/none not found in us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parameterstore.Evaluate(ctx, sess, &parameterstore.Config{AccessConfig: access, Name: tt.param, WithDecryption: tt.decrypt})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// A SecureString's value is marked for masking, a String's is not.
			if v.GetAttr("value").HasMark(hcl2spec.SensitiveMark) != tt.secure {
				t.Errorf("value marked sensitive = %v, want %v", !tt.secure, tt.secure)
			}
			v, _ = v.UnmarkDeep()
			if !v.Type().Equals(parameterstore.OutputType) || v.GetAttr("value").AsString() != tt.value ||
				v.GetAttr("version").AsString() != tt.ver || !strings.Contains(v.GetAttr("arn").AsString(), tt.param) {
				t.Errorf("value %#v", v)
			}
		})
	}
}

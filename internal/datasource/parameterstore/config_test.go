package parameterstore

import (
	"testing"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/check"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name   string
		region string
		ok     bool
	}{
		{"valid", "eu-central-2", true},
		{"bad region", "europe", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{AccessConfig: amazon.AccessConfig{Region: tt.region}, Name: "/x"}
			ctx := &check.Context{}
			c.Prepare(ctx)
			if ctx.HasErrors() == tt.ok || c.MaxRetries != 10 {
				t.Errorf("diagnostics = %v, max_retries = %d; want ok=%v, 10", ctx.Diags, c.MaxRetries, tt.ok)
			}
		})
	}
}

func TestOutput(t *testing.T) {
	v := Output{Value: "ami-12345678", Version: "3", ARN: "arn:aws:ssm:us-east-1:1:parameter/x"}.CtyValue()
	if !v.Type().Equals(OutputType) || v.GetAttr("version").AsString() != "3" {
		t.Errorf("value %#v", v)
	}
}

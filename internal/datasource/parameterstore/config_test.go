package parameterstore

import (
	"testing"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/hcl2spec"
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
	if !v.Type().Equals(OutputType) || v.GetAttr("version").AsString() != "3" || v.ContainsMarked() {
		t.Errorf("value %#v", v)
	}
	// A SecureString's value is marked so the template masks it; the rest
	// of the object is not.
	s := Output{Value: "hunter2", Version: "1", ARN: "arn:aws:ssm:us-east-1:1:parameter/pw", Secure: true}.CtyValue()
	if !s.GetAttr("value").HasMark(hcl2spec.SensitiveMark) || s.GetAttr("arn").IsMarked() || s.IsMarked() {
		t.Errorf("secure value %#v: want only value marked sensitive", s)
	}
}

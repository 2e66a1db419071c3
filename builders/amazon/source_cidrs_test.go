package amazon

import (
	"os"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

// TestSourceCIDRsWarning: validate warns when the build would stop at its
// temporary security group (no source CIDRs and an EC2 endpoint that is
// not on loopback), with the endpoint resolved as the build resolves it.
func TestSourceCIDRsWarning(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		edit func(*SourceConfig)
		want string // "" for no warning
	}{
		{name: "AWS", want: "requests to AWS"},
		{name: "AWS_ENDPOINT_URL on loopback", env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}},
		{name: "AWS_ENDPOINT_URL_EC2 on localhost", env: map[string]string{"AWS_ENDPOINT_URL_EC2": "http://localhost:5000"}},
		{name: "AWS_ENDPOINT_URL elsewhere", env: map[string]string{"AWS_ENDPOINT_URL": "https://emulator.example.com"}, want: "emulator.example.com"},
		{name: "custom_endpoint_ec2 before the environment", env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
			edit: func(c *SourceConfig) { c.CustomEndpointEC2 = "ec2.example.com" }, want: "https://ec2.example.com"},
		{name: "source CIDRs", edit: func(c *SourceConfig) { c.TemporarySGSourceCidrs = []string{"203.0.113.0/24"} }},
		{name: "public IP", edit: func(c *SourceConfig) { c.TemporarySGSourcePublicIP = true }},
		{name: "existing groups", edit: func(c *SourceConfig) { c.SecurityGroupIDs = []string{"sg-12345678"} }},
		{name: "no communicator", edit: func(c *SourceConfig) { c.Type = "none" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsEnv(t)
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := valid()
			c.TemporarySGSourceCidrs = nil
			if tt.edit != nil {
				tt.edit(&c)
			}
			ctx := &check.Context{}
			c.Prepare(ctx)
			var got []string
			for _, d := range ctx.Diags {
				if d.Summary == "No source for the temporary security group" {
					got = append(got, d.Detail)
				}
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("unexpected warning: %v", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Errorf("warnings %v, want one naming %q (all diagnostics: %v)", got, tt.want, ctx.Diags)
			}
			if ctx.HasErrors() {
				t.Errorf("errors: %v", ctx.Diags)
			}
		})
	}
}

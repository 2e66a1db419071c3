package ebs

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestEBSConfig(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		sev  hcl.DiagnosticSeverity
		want string
	}{
		{"valid", func(*Config) {}, 0, ""},
		{"run volume tag placeholder", func(c *Config) { c.RunVolumeTags = map[string]string{"n": "{{ .Nope }}"} }, hcl.DiagError, "Invalid template in run_volume_tags"},
		{"no_reboot and disable_stop_instance", func(c *Config) { c.NoReboot = true; c.DisableStopInstance = true }, hcl.DiagWarning, "no_reboot"},
		{"shared checks run", func(c *Config) { c.SourceAMI = "" }, hcl.DiagError, "Missing source AMI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Region, c.AMIName, c.InstanceType, c.SourceAMI, c.SSHUsername = "us-east-1", "img-{{timestamp}}", "t3.micro", "ami-12345678", "u"
			tt.edit(&c)
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.want == "" {
				if len(ctx.Diags) != 0 {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || ctx.Diags[0].Severity != tt.sev || !strings.Contains(ctx.Diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", ctx.Diags, tt.want)
			}
		})
	}
}

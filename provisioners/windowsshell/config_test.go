package windowsshell

import (
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestWindowsShellPrepare(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"no script", func(c *Config) { c.Inline = nil }, "Missing script"},
		{"inline and script", func(c *Config) { c.Script = "/dev/null" }, "Conflicting scripts"},
		{"execute_command placeholder", func(c *Config) { c.ExecuteCommand = "{{.ExecutionPolicy}}" }, "execute_command"},
		{"start_retry_timeout", func(c *Config) { c.StartRetryTimeout = "5" }, "start_retry_timeout"},
		{"env_var_format", func(c *Config) { c.EnvVarFormat = "set %s" }, "env_var_format"},
		{"environment_vars", func(c *Config) { c.EnvironmentVars = []string{"NOPE"} }, "environment variable"},
		{"quote in environment_vars", func(c *Config) { c.EnvironmentVars = []string{`A=say "hi"`} }, "environment variable"},
		{"line break in env", func(c *Config) { c.Env.Env = map[string]string{"A": "x\ny"} }, "environment variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Inline = []string{"echo hi"}
			tt.edit(&c)
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.want == "" {
				if len(ctx.Diags) != 0 {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Summary+ctx.Diags[0].Detail, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", ctx.Diags, tt.want)
			}
		})
	}
	var c Config
	c.Inline = []string{"echo hi"}
	c.Prepare(&check.Context{})
	if c.ExecuteCommand != `{{.Vars}}"{{.Path}}"` || c.EnvVarFormat != `set "%s=%s" && ` || c.RemotePath != "" ||
		c.StartRetryTimeout != "5m" || len(c.ValidExitCodes) != 1 {
		t.Errorf("defaults: %+v", c)
	}
}

package shell

import (
	"regexp"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestShellDefaults(t *testing.T) {
	c := Config{}
	c.Inline = []string{"echo hi"}
	c.Prepare(&check.Context{})
	if c.ExecuteCommand != "chmod +x {{.Path}}; {{.Vars}} {{.Path}}" || c.RemoteFolder != "/tmp" ||
		!regexp.MustCompile(`^/tmp/script_[0-9]+\.sh$`).MatchString(c.RemotePath) || c.InlineShebang != "/bin/sh -e" || c.StartRetryTimeout != "5m" ||
		c.EnvVarFormat != "%s='%s' " || len(c.ValidExitCodes) != 1 {
		t.Errorf("defaults: %+v", c)
	}
	e := Config{UseEnvVarFile: true}
	e.Inline = []string{"echo hi"}
	e.Prepare(&check.Context{})
	if e.ExecuteCommand != EnvFileExecuteCommand || e.EnvVarFormat != EnvFileEnvVarFormat {
		t.Errorf("use_env_var_file defaults: %q %q", e.ExecuteCommand, e.EnvVarFormat)
	}
	if e.RemotePath == c.RemotePath {
		t.Errorf("two provisioners share the default remote path %s", c.RemotePath)
	}
}

func TestShellErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"no script", func(c *Config) { c.Inline = nil }, "Missing script"},
		{"inline and script", func(c *Config) { c.Script = "/dev/null" }, "Conflicting scripts"},
		{"execute_command placeholder", func(c *Config) { c.ExecuteCommand = "sh {{.Script}}" }, "execute_command"},
		{"start_retry_timeout", func(c *Config) { c.StartRetryTimeout = "5" }, "start_retry_timeout"},
		{"env_var_format", func(c *Config) { c.EnvVarFormat = "%s" }, "env_var_format"},
		{"environment_vars", func(c *Config) { c.EnvironmentVars = []string{"NOPE"} }, "environment variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{}
			c.Inline = []string{"echo hi"}
			tt.edit(&c)
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.want == "" {
				if ctx.HasErrors() {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Summary+ctx.Diags[0].Detail, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", ctx.Diags, tt.want)
			}
		})
	}
}

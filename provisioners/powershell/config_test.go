package powershell

import (
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestPowerShell(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"elevated", func(c *Config) { c.ElevatedUser, c.ElevatedPassword = "Administrator", "pw" }, ""},
		{"policy", func(c *Config) { c.ExecutionPolicy = "whatever" }, "execution_policy"},
		{"policy case", func(c *Config) { c.ExecutionPolicy = "RemoteSigned" }, ""},
		{"debug mode", func(c *Config) { c.DebugMode = 3 }, "debug_mode"},
		{"password without user", func(c *Config) { c.ElevatedPassword = "pw" }, "elevated_password without elevated_user"},
		{"elevated command", func(c *Config) { c.ElevatedExecuteCommand = "{{.Nope}}" }, "elevated_execute_command"},
		{"execute command", func(c *Config) { c.ExecuteCommand = "{{.Script}}" }, "execute_command"},
		{"start_retry_timeout", func(c *Config) { c.StartRetryTimeout = "5" }, "start_retry_timeout"},
		{"environment_vars", func(c *Config) { c.EnvironmentVars = []string{"NOPE"} }, "environment variable"},
		{"no script", func(c *Config) { c.Inline = nil }, "Missing script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Inline = []string{"Write-Host hi"}
			tt.edit(&c)
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.want == "" {
				if len(ctx.Diags) != 0 {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", ctx.Diags, tt.want)
			}
		})
	}
}

func TestPowerShellDefaults(t *testing.T) {
	const body = `"& { if (Test-Path variable:global:ProgressPreference){set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};. {{.Vars}}; `
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(*Config) {}, DefaultExecuteCommand},
		{"pwsh", func(c *Config) { c.UsePwsh = true },
			`pwsh -executionpolicy {{.ExecutionPolicy}} -command ` + body + `&'{{.Path}}'; exit $LastExitCode }"`},
		{"policy none", func(c *Config) { c.ExecutionPolicy = "none" },
			`powershell ` + body + `&'{{.Path}}'; exit $LastExitCode }"`},
		{"pwsh, policy none", func(c *Config) { c.UsePwsh, c.ExecutionPolicy = true, "none" },
			`pwsh -command ` + body + `&'{{.Path}}'; exit $LastExitCode }"`},
		{"debug mode", func(c *Config) { c.DebugMode = 2 },
			`powershell -executionpolicy {{.ExecutionPolicy}} ` + body + `Set-PSDebug -Trace 2; &'{{.Path}}'; exit $LastExitCode }"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Inline = []string{"x"}
			tt.edit(&c)
			c.Prepare(&check.Context{})
			if c.ExecuteCommand != tt.want || c.ElevatedExecuteCommand != tt.want {
				t.Errorf("execute_command =\n%s\nelevated_execute_command =\n%s\nwant\n%s", c.ExecuteCommand, c.ElevatedExecuteCommand, tt.want)
			}
			if c.RemotePath != "" || c.RemoteEnvVarPath != "" || c.StartRetryTimeout != "5m" || len(c.ValidExitCodes) != 1 {
				t.Errorf("defaults: %+v", c)
			}
		})
	}
	// A custom command is the user's: use_pwsh does not rewrite it.
	c := Config{ExecuteCommand: "powershell -file {{.Path}}", UsePwsh: true}
	c.Inline = []string{"x"}
	c.Prepare(&check.Context{})
	if c.ExecuteCommand != "powershell -file {{.Path}}" {
		t.Errorf("custom execute_command rewritten to %q", c.ExecuteCommand)
	}
}

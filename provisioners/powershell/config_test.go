package powershell

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestPowerShell(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"policy", func(c *Config) { c.ExecutionPolicy = "whatever" }, "execution_policy"},
		{"policy case", func(c *Config) { c.ExecutionPolicy = "RemoteSigned" }, ""},
		{"debug mode", func(c *Config) { c.DebugMode = 3 }, "debug_mode"},
		{"password without user", func(c *Config) { c.ElevatedPassword = "pw" }, "elevated_password without elevated_user"},
		{"elevated command", func(c *Config) { c.ElevatedExecuteCommand = "{{.Nope}}" }, "elevated_execute_command"},
		{"no script", func(c *Config) { c.Inline = nil }, "Missing script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Inline = []string{"Write-Host hi"}
			tt.edit(&c)
			ctx := &check.Context{}
			c.Prepare(ctx)
			diags := withoutRefusal(t, ctx.Diags)
			if tt.want == "" {
				if diags.HasErrors() {
					t.Fatalf("unexpected diagnostics: %v", diags)
				}
				return
			}
			if len(diags) != 1 || !strings.Contains(diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", diags, tt.want)
			}
		})
	}
}

// withoutRefusal checks that diags refuse the provisioner as not
// implemented, first, and returns the other diagnostics.
func withoutRefusal(t *testing.T, diags hcl.Diagnostics) hcl.Diagnostics {
	t.Helper()
	if len(diags) == 0 {
		t.Fatal("no diagnostics; want the powershell provisioner refused")
	}
	if name, ok := check.UnimplementedName(diags[0]); !ok || name != Refused {
		t.Fatalf("first diagnostic %v; want %s refused as not implemented", diags[0], Refused)
	}
	return diags[1:]
}

func TestPowerShellDefaults(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Config)
		prefix string
		policy bool
	}{
		{"default", func(*Config) {}, "powershell -executionpolicy {{.ExecutionPolicy}}", true},
		{"pwsh", func(c *Config) { c.UsePwsh = true }, "pwsh -executionpolicy", true},
		{"policy none", func(c *Config) { c.ExecutionPolicy = "none" }, "powershell \"&", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Inline = []string{"x"}
			tt.edit(&c)
			c.Prepare(&check.Context{})
			if !strings.HasPrefix(c.ExecuteCommand, tt.prefix) || !strings.HasPrefix(c.ElevatedExecuteCommand, tt.prefix) {
				t.Errorf("execute_command = %q, want prefix %q", c.ExecuteCommand, tt.prefix)
			}
			if strings.Contains(c.ExecuteCommand, "-executionpolicy") != tt.policy {
				t.Errorf("execute_command = %q", c.ExecuteCommand)
			}
			if c.RemotePath != DefaultRemotePath || len(c.ValidExitCodes) != 1 {
				t.Errorf("defaults: %+v", c)
			}
		})
	}
}

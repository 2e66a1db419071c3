package shelllocal

import (
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestShellLocal(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"command", Config{Command: "echo hi"}, ""},
		{"nothing", Config{}, "Missing script"},
		{"command and inline", func() Config { c := Config{Command: "x"}; c.Inline = []string{"y"}; return c }(), "Conflicting scripts"},
		{"only_on", Config{Command: "x", OnlyOn: []string{"linux", "macos"}}, "only_on"},
		{"execute_command", Config{Command: "x", ExecuteCommand: []string{"sh", "{{.Path}}"}}, "execute_command"},
		{"use_linux_pathing", Config{Command: "x", UseLinuxPathing: true}, "use_linux_pathing is not implemented yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.want == "" {
				if ctx.HasErrors() {
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

func TestShellLocalDefaults(t *testing.T) {
	tests := []struct {
		goos, first, shebang string
	}{
		{"linux", "/bin/sh", "/bin/sh -e"},
		{"windows", "cmd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.goos, func(t *testing.T) {
			var c Config
			c.setDefaults(tt.goos)
			if c.ExecuteCommand[0] != tt.first || c.InlineShebang != tt.shebang || len(c.ValidExitCodes) != 1 {
				t.Errorf("defaults on %s: %+v", tt.goos, c)
			}
		})
	}
	c := Config{OnlyOn: []string{"darwin"}}
	if c.Applies("linux") || !c.Applies("darwin") || !(&Config{}).Applies("linux") {
		t.Error("Applies does not follow only_on")
	}
}

package windowsrestart

import (
	"slices"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestWindowsRestart(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"timeout", Config{RestartTimeout: "15m"}, true},
		{"bad timeout", Config{RestartTimeout: "15"}, false},
		{"bad key", Config{RegistryKeys: []string{"SOFTWARE\\x"}}, false},
		{"key with separator", Config{RegistryKeys: []string{"HKLM:SOFTWARE\\a;b"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.ok && len(ctx.Diags) != 0 || !tt.ok && !ctx.HasErrors() {
				t.Errorf("diagnostics = %v, want ok=%v", ctx.Diags, tt.ok)
			}
		})
	}
	var c Config
	c.Prepare(&check.Context{})
	if c.RestartCommand != DefaultRestartCommand || c.RestartCheckCommand != DefaultRestartCheckCommand ||
		c.RestartTimeout != "5m" || !slices.Equal(c.RegistryKeys, DefaultRegistryKeys) {
		t.Errorf("defaults: %+v", c)
	}
}

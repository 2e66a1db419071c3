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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			ctx := &check.Context{}
			c.Prepare(ctx)
			if len(ctx.Diags) == 0 {
				t.Fatal("no diagnostics; want the windows-restart provisioner refused")
			}
			if name, ok := check.UnimplementedName(ctx.Diags[0]); !ok || name != Refused {
				t.Fatalf("first diagnostic %v; want %s refused as not implemented", ctx.Diags[0], Refused)
			}
			if rest := ctx.Diags[1:]; rest.HasErrors() == tt.ok {
				t.Errorf("diagnostics = %v, want ok=%v", rest, tt.ok)
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

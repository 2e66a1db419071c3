package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestFileConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"upload file", Config{Source: "a.txt", Destination: "/tmp/a"}, ""},
		{"upload dir", Config{Source: "conf/", Destination: "/etc/app"}, ""},
		{"upload sources", Config{Sources: []string{"a.txt", "conf"}, Destination: "/tmp/"}, ""},
		{"content", Config{Content: "hello", Destination: "/tmp/a"}, ""},
		{"missing source", Config{Source: "nope", Destination: "/tmp/a"}, "File not found for source"},
		{"missing in sources", Config{Sources: []string{"a.txt", "nope"}, Destination: "/tmp/"}, "File not found for sources"},
		{"generated not checked", Config{Source: "nope", Destination: "/tmp/a", Generated: true}, ""},
		{"no source", Config{Destination: "/tmp/a"}, "Missing file source"},
		{"content and source", Config{Content: "x", Source: "a.txt", Destination: "/tmp/a"}, "Conflicting file sources"},
		{"bad direction", Config{Source: "a.txt", Destination: "/tmp/a", Direction: "sideways"}, "direction"},
		{"download remote source", Config{Source: "/var/log/x", Destination: "x", Direction: "download"}, ""},
		{"download two sources", Config{Sources: []string{"/a", "/b"}, Destination: "x", Direction: "download"}, "Too many sources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			ctx := &check.Context{BaseDir: dir}
			c.Prepare(ctx)
			if tt.want == "" {
				if ctx.HasErrors() {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				if c.Direction == "" {
					t.Error("direction has no default")
				}
				return
			}
			if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", ctx.Diags, tt.want)
			}
		})
	}
}

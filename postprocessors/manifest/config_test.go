package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestManifest(t *testing.T) {
	tests := []struct {
		name, output, want string
		ok                 bool
	}{
		{"default", "", DefaultOutput, true},
		{"custom", "out/m.json", "out/m.json", true},
		{"directory", "out/", "out/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Output: tt.output}
			ctx := &check.Context{}
			c.Prepare(ctx)
			if c.Output != tt.want || ctx.HasErrors() == tt.ok {
				t.Errorf("output = %q, diagnostics = %v; want %q, ok=%v", c.Output, ctx.Diags, tt.want, tt.ok)
			}
		})
	}
}

// TestManifestBuildChecks checks at validate what the post-processor
// would only find after the image is made: custom_data placeholders that
// do not render, and an existing output it cannot append to.
func TestManifestBuildChecks(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"ok.json":     `{"builds": [{"name": "x"}], "last_run_uuid": "r"}`,
		"broken.json": `{"builds": [`,
		"notes.txt":   "just notes",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		unknown string
		want    string // summary substring; "" means valid
	}{
		{"new output", Config{Output: "new.json"}, "", ""},
		{"existing manifest", Config{Output: "ok.json"}, "", ""},
		{"broken manifest", Config{Output: "broken.json"}, "", "Unusable manifest output"},
		{"not a manifest", Config{Output: "notes.txt"}, "", "Unusable manifest output"},
		{"directory", Config{Output: "sub"}, "", "Unusable manifest output"},
		{"unknown output", Config{Output: "notes.txt"}, "output", ""},
		{"custom data", Config{CustomData: map[string]string{"ami": "{{ .SourceAMI }}", "when": "{{ timestamp }}"}}, "", ""},
		{"custom data placeholder", Config{CustomData: map[string]string{"x": "{{ .Nope }}"}}, "", "Invalid template in custom_data"},
		{"custom data syntax", Config{CustomData: map[string]string{"x": "{{ .SourceAMI "}}, "", "Invalid template in custom_data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			ctx := &check.Context{BaseDir: dir, Unknown: map[string]bool{tt.unknown: true}}
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

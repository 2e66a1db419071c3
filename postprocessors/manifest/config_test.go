package manifest

import (
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

package script

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

func TestSourcePrepare(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.sh"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     Source
		extra   []Alternative
		unknown string
		want    string
	}{
		{"inline", Source{Inline: []string{"echo"}}, nil, "", ""},
		{"script", Source{Script: "a.sh"}, nil, "", ""},
		{"scripts", Source{Scripts: []string{"a.sh", "a.sh"}}, nil, "", ""},
		{"none", Source{}, nil, "", "Missing script"},
		{"unknown script", Source{}, nil, "script", ""},
		{"two", Source{Inline: []string{"x"}, Script: "a.sh"}, nil, "", "Conflicting scripts"},
		{"extra alternative", Source{}, []Alternative{{"command", true}}, "", ""},
		{"extra conflicts", Source{Inline: []string{"x"}}, []Alternative{{"command", true}}, "", "Conflicting scripts"},
		{"missing file", Source{Script: "b.sh"}, nil, "", "File not found for script"},
		{"missing in scripts", Source{Scripts: []string{"a.sh", "c.sh"}}, nil, "", "File not found for scripts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := &check.Context{BaseDir: dir, Unknown: map[string]bool{tt.unknown: true}}
			src := tt.src
			src.Prepare(ctx, tt.extra...)
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
	s := Source{Script: "a.sh"}
	s.Prepare(&check.Context{BaseDir: dir})
	if !slices.Equal(s.Scripts, []string{"a.sh"}) {
		t.Errorf("Scripts after Prepare = %v, want [a.sh]", s.Scripts)
	}
}

func TestEnvPrepare(t *testing.T) {
	tests := []struct {
		name string
		env  Env
		ok   bool
	}{
		{"valid", Env{EnvironmentVars: []string{"A=1", "B="}, Env: map[string]string{"C": "3"}}, true},
		{"no equals", Env{EnvironmentVars: []string{"A"}}, false},
		{"bad map key", Env{Env: map[string]string{"A B": "x"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := &check.Context{}
			tt.env.Prepare(ctx)
			if ctx.HasErrors() == tt.ok {
				t.Errorf("diagnostics = %v, want ok=%v", ctx.Diags, tt.ok)
			}
		})
	}
	if got := ExitCodes(nil); !slices.Equal(got, []int{0}) {
		t.Errorf("ExitCodes(nil) = %v", got)
	}
	if got := ExitCodes([]int{3}); !slices.Equal(got, []int{3}) {
		t.Errorf("ExitCodes([3]) = %v", got)
	}
}

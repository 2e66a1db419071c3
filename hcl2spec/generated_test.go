package hcl2spec_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/imgbuild/imgbuild/hcl2spec/internal/specgen"
)

// TestGeneratedFresh fails when a Config changed without "go generate ./hcl2spec".
func TestGeneratedFresh(t *testing.T) {
	var want []string
	for _, target := range specgen.Targets() {
		want = append(want, target.File)
		t.Run(target.Var, func(t *testing.T) {
			src, err := specgen.Generate(target)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(target.File)
			if err != nil {
				t.Fatalf("%v; run go generate ./hcl2spec", err)
			}
			if !bytes.Equal(got, src) {
				t.Errorf("%s is stale; run go generate ./hcl2spec", target.File)
			}
		})
	}
	files, err := filepath.Glob("*.hcl2spec.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.Contains(want, f) {
			t.Errorf("%s is generated for no target; delete it", f)
		}
	}
}

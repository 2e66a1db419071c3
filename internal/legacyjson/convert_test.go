package legacyjson

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestConvertGolden converts every testdata/*.json and compares the HCL
// hcl2_upgrade writes with testdata/*.pkr.hcl.golden.
func TestConvertGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			r, diags := Convert(src, in, Options{Upgrade: true})
			if diags.HasErrors() {
				t.Fatalf("convert: %v", diags)
			}
			got := r.Formatted()
			if _, diags := hclsyntax.ParseConfig(got, "out.pkr.hcl", hcl.InitialPos); diags.HasErrors() {
				t.Fatalf("output does not parse: %v\n%s", diags, got)
			}
			golden := strings.TrimSuffix(in, ".json") + ".pkr.hcl.golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, got)
			}
		})
	}
}

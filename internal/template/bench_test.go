package template_test

import (
	"testing"

	"github.com/imgbuild/imgbuild/internal/template"
)

// BenchmarkLoad loads, evaluates and checks the Packer-compatibility
// example (variables with validation, locals, a source with nested blocks,
// provisioners, a post-processor): the work validate does.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		_, diags := template.Load("../../examples/packer-compat/al2023.pkr.hcl", template.Options{})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}

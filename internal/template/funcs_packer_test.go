package template

import (
	"regexp"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestPackerObject checks packer.version and packer.versionFingerprint:
// HCP_PACKER_BUILD_FINGERPRINT when set, else one ULID for the run.
func TestPackerObject(t *testing.T) {
	eval := func(env map[string]string, expr string) string {
		l := &loader{opts: Options{Getenv: func(k string) string { return env[k] }}, t: &Template{}}
		v, diags := evalExpr(expr, &hcl.EvalContext{Variables: map[string]cty.Value{"packer": l.packerObject()}})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", expr, diags)
		}
		return v.AsString()
	}
	if got := eval(nil, "packer.version"); got != "1.16.0" {
		t.Errorf("packer.version = %q", got)
	}
	if got := eval(map[string]string{"HCP_PACKER_BUILD_FINGERPRINT": "fp-123"}, "packer.versionFingerprint"); got != "fp-123" {
		t.Errorf("packer.versionFingerprint = %q, want the HCP_PACKER_BUILD_FINGERPRINT value", got)
	}
	a, b := eval(nil, "packer.versionFingerprint"), eval(nil, "packer.versionFingerprint")
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`).MatchString(a) || a != b {
		t.Errorf("packer.versionFingerprint = %q then %q, want one ULID for the run", a, b)
	}
}

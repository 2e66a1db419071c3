package legacyjson

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestConvertDiagnosticLines checks that conversion problems are reported
// at the JSON line they come from.
func TestConvertDiagnosticLines(t *testing.T) {
	for _, tc := range []struct {
		name, src, summary string
		line               int
	}{
		{"unknown builder type", `{
  "builders": [
    {
      "type": "docker",
      "image": "x"
    }
  ]
}`, "Unsupported builder type", 4},
		{"bad placeholder", `{
  "builders": [{
    "type": "amazon-ebs",
    "ami_name": "x-{{nosuch}}"
  }]
}`, "Invalid template placeholder", 4},
		{"unclosed placeholder", `{
  "builders": [{"type": "amazon-ebs"}],
  "provisioners": [
    {"type": "shell",
     "inline": ["echo {{user ` + "`x`" + `"]}
  ]
}`, "Invalid template placeholder", 5},
		{"env outside variables", `{
  "builders": [{
    "type": "amazon-ebs",
    "region": "{{env ` + "`AWS_REGION`" + `}}"
  }]
}`, "env not allowed here", 4},
		{"secret store", `{
  "variables": {
    "pw": "{{aws_secretsmanager ` + "`x`" + `}}"
  },
  "builders": [{"type": "amazon-ebs"}]
}`, "Unsupported template function", 3},
		{"unknown root key", `{
  "builders": [{"type": "amazon-ebs"}],
  "provisoners": []
}`, "Unknown root level key", 3},
		{"non-string variable", `{
  "variables": {
    "n": 3
  },
  "builders": [{"type": "amazon-ebs"}]
}`, "Invalid variable default", 3},
		{"builder without type", `{
  "builders": [
    {"region": "us-east-1"}
  ]
}`, "Builder missing type", 3},
		{"duplicate builder", `{
  "builders": [
    {"type": "amazon-ebs"},
    {"type": "amazon-ebs"}
  ]
}`, "Duplicate builder name", 4},
		{"nested sequence", `{
  "builders": [{"type": "amazon-ebs"}],
  "post-processors": [
    ["manifest",
     ["manifest"]]
  ]
}`, "Invalid post-processor", 5},
		{"json syntax", `{
  "builders": [
    {"type": "amazon-ebs",}
  ]
}`, "Invalid JSON", 3},
		{"duplicate key", `{
  "builders": [{"type": "amazon-ebs"}],
  "variables": {"a": "1",
    "a": "2"}
}`, "Duplicate key", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Convert([]byte(tc.src), "t.json", Options{})
			for _, d := range diags {
				if d.Summary == tc.summary {
					if d.Subject == nil || d.Subject.Filename != "t.json" || d.Subject.Start.Line != tc.line {
						t.Errorf("%q at %v, want t.json line %d", d.Summary, d.Subject, tc.line)
					}
					return
				}
			}
			t.Errorf("no %q diagnostic: %v", tc.summary, diags)
		})
	}
}

// TestMapRange checks that ranges in the converted HCL map back to the
// JSON key or value they come from.
func TestMapRange(t *testing.T) {
	src := []byte(`{
  "variables": {"region": "us-east-1"},
  "builders": [
    {
      "type": "amazon-ebs",
      "region": "{{user ` + "`region`" + `}}",
      "tags": {
        "Name": "x"
      }
    }
  ]
}`)
	r, diags := Convert(src, "t.json", Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	f, diags := hclsyntax.ParseConfig(r.HCL, r.HCLName, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags, r.HCL)
	}
	body := f.Body.(*hclsyntax.Body)
	var src0 *hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == "source" {
			src0 = b
		}
	}
	if src0 == nil {
		t.Fatalf("no source block:\n%s", r.HCL)
	}
	text := func(rng hcl.Range) string { return string(rng.SliceBytes(src)) }
	for _, tc := range []struct {
		rng  hcl.Range
		want string
	}{
		{src0.LabelRanges[0], `"amazon-ebs"`},
		{src0.Body.Attributes["region"].NameRange, `"region"`},
		{src0.Body.Attributes["region"].Expr.Range(), "\"{{user `region`}}\""},
		{src0.Body.Attributes["tags"].Expr.Range(), "{\n        \"Name\": \"x\"\n      }"},
	} {
		got := r.MapRange(tc.rng)
		if got.Filename != "t.json" || text(got) != tc.want {
			t.Errorf("%v maps to %v %q, want %q", tc.rng, got, text(got), tc.want)
		}
	}
	if got := r.MapRange(hcl.Range{Filename: "other.pkr.hcl", Start: hcl.Pos{Line: 3}}); got.Filename != "other.pkr.hcl" {
		t.Errorf("a range in another file was mapped: %v", got)
	}

	// A range a diagnostic names in its text (a rule's or an earlier
	// declaration's place) is mapped too, not only its subject.
	region := src0.Body.Attributes["region"].NameRange
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "x",
		Detail: "Declared at " + region.String() + " and " + r.HCLName + "."}
	r.MapDiagnostics(hcl.Diagnostics{d})
	if want := "Declared at " + r.MapRange(region).String() + " and t.json."; d.Detail != want || !strings.Contains(d.Detail, "t.json:6,") {
		t.Errorf("detail %q, want %q (line 6 of the JSON)", d.Detail, want)
	}
}

// TestIsLegacy tells legacy templates from other JSON.
func TestIsLegacy(t *testing.T) {
	for src, want := range map[string]bool{
		`{"builders": []}`:               true,
		`{"variables": {}}`:              false,
		`{"source": {"amazon-ebs": {}}}`: false,
		`{"builders": [,]}`:              true,
		`[]`:                             false,
	} {
		if got := IsLegacy([]byte(src)); got != want {
			t.Errorf("IsLegacy(%s) = %v, want %v", src, got, want)
		}
	}
}

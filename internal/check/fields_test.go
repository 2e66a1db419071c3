package check

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

const fieldsSrc = `ami_name = "x"
source_ami_filter {
  owners = ["self"]
}
launch_block_device_mappings {
  device_name = "/dev/sda1"
}
launch_block_device_mappings {
  volume_type = "gp9"
}
`

func TestBodyFieldsSyntax(t *testing.T) {
	f, diags := hclparse.NewParser().ParseHCL([]byte(fieldsSrc), "t.pkr.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fields := BodyFields(f.Body)
	tests := []struct {
		name      string
		path      []string
		line, col int
	}{
		{"attribute expression", []string{"ami_name"}, 1, 12},
		{"block", []string{"source_ami_filter"}, 2, 1},
		{"nested attribute", []string{"source_ami_filter", "owners"}, 3, 12},
		{"missing nested attribute", []string{"source_ami_filter", "most_recent"}, 2, 1},
		{"second block", []string{"launch_block_device_mappings", "1", "volume_type"}, 9, 17},
		{"first block by default", []string{"launch_block_device_mappings", "device_name"}, 6, 17},
		{"index out of range", []string{"launch_block_device_mappings", "5", "x"}, 5, 1},
		{"missing top level", []string{"region"}, 1, 1},
		{"empty path", nil, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fields.Range(tt.path...)
			if r.Start.Line != tt.line || r.Start.Column != tt.col || r.Filename != "t.pkr.hcl" {
				t.Errorf("Range(%v) = %s, want line %d column %d", tt.path, r, tt.line, tt.col)
			}
		})
	}
}

func TestBodyFieldsJSON(t *testing.T) {
	f, diags := hclparse.NewParser().ParseJSON([]byte(`{"ami_name": "x", "region": "us-east-1"}`), "t.pkr.json")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fields := BodyFields(f.Body)
	if r := fields.Range("region"); r.Start.Column != 29 {
		t.Errorf("Range(region) = %s, want column 29", r)
	}
	if r := fields.Range("nope"); r.Filename != "t.pkr.json" {
		t.Errorf("Range(nope) = %s, want a range in the file", r)
	}
}

func TestContextDiagnostics(t *testing.T) {
	f, _ := hclparse.NewParser().ParseHCL([]byte(fieldsSrc), "t.pkr.hcl")
	ctx := &Context{Fields: BodyFields(f.Body), Unknown: map[string]bool{"source_ami": true}}
	ctx.Enum(Path("ami_name"), "x", "a", "b")
	ctx.Enum(Path("ami_name"), "", "a", "b")
	ctx.DurationAttr(Path("ami_name"), "5")
	ctx.Require(Path("source_ami"), false, "detail")
	ctx.Require(Path("region"), false, "the region to build in")
	ctx.Placeholders(Path("ami_name"), "{{ .Nope }}")
	ctx.Warnf(Path("ami_name"), "just a warning", "")
	want := []string{"Invalid value for ami_name", "Invalid duration for ami_name", "Missing required argument", "Invalid template in ami_name", "just a warning"}
	if len(ctx.Diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(ctx.Diags), len(want), ctx.Diags)
	}
	for i, d := range ctx.Diags {
		if d.Summary != want[i] {
			t.Errorf("diag %d summary = %q, want %q", i, d.Summary, want[i])
		}
	}
	if ctx.Diags[4].Severity != hcl.DiagWarning || ctx.Diags[0].Subject.Start.Line != 1 {
		t.Errorf("unexpected severity or subject: %+v", ctx.Diags)
	}
}

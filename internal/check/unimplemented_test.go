package check

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestNotImplemented(t *testing.T) {
	f, diags := hclparse.NewParser().ParseHCL([]byte(fieldsSrc), "t.pkr.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ctx := &Context{Fields: BodyFields(f.Body), Unknown: map[string]bool{"region": true}}
	ctx.RefuseSet(Path("ami_name"), true, "Remove it.")
	ctx.RefuseSet(Path("source_ami_filter", "owners"), false, "not set: no diagnostic")
	ctx.RefuseSet(Path("region"), false, "Unknown values count as set.")
	ctx.NotImplemented(Path("launch_block_device_mappings", "1"), `block "x"`, "")
	want := []struct {
		name, summary string
		line          int
	}{
		{"ami_name", "ami_name is not implemented yet", 1},
		{"region", "region is not implemented yet", 1},
		{`block "x"`, `block "x" is not implemented yet`, 8},
	}
	if len(ctx.Diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d: %v", len(ctx.Diags), len(want), ctx.Diags)
	}
	for i, w := range want {
		d := ctx.Diags[i]
		name, ok := UnimplementedName(d)
		if !ok || name != w.name || d.Summary != w.summary || d.Severity != hcl.DiagError || d.Subject.Start.Line != w.line {
			t.Errorf("diag %d = %q %q line %d (%v, %v), want %q %q line %d", i, name, d.Summary, d.Subject.Start.Line, ok, d.Severity, w.name, w.summary, w.line)
		}
		if !strings.Contains(d.Detail, "is not implemented yet in this version of imgbuild.") {
			t.Errorf("detail %q", d.Detail)
		}
	}
	if _, ok := UnimplementedName(&hcl.Diagnostic{Summary: "other"}); ok {
		t.Error("UnimplementedName accepts an ordinary diagnostic")
	}
	if d := NotImplementedDiag(nil, "x", "Do y."); d.Subject != nil || d.Detail != "x is not implemented yet in this version of imgbuild. Do y." {
		t.Errorf("NotImplementedDiag = %+v", d)
	}
}

package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/legacyjson"
)

var hcl2UpgradeCommand = command{
	synopsis: "Convert a legacy JSON template to HCL",
	usage:    "hcl2_upgrade [options] TEMPLATE.json",
	run:      runHCL2Upgrade,
}

type hcl2UpgradeOptions struct {
	outputFile string
}

// runHCL2Upgrade writes the HCL equivalent of a legacy JSON template, as
// `packer hcl2_upgrade` does: to TEMPLATE.json.pkr.hcl unless
// -output-file names another file. Nothing is written when the template
// has errors.
func runHCL2Upgrade(_ context.Context, e *env, args []string) int {
	var o hcl2UpgradeOptions
	fs := newFlagSet(e, "hcl2_upgrade")
	fs.StringVar(&o.outputFile, "output-file", "", "write the HCL to this file (default: TEMPLATE.json"+legacyjson.HCLSuffix+")")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		e.ui.Error("expected one legacy JSON template, got %d arguments", fs.NArg())
		fs.Usage()
		return exitUsage
	}
	path := fs.Arg(0)
	if o.outputFile == "" {
		o.outputFile = path + legacyjson.HCLSuffix
	}
	src, err := os.ReadFile(path)
	if err != nil {
		e.ui.Error("%v", err)
		return exitUsage
	}
	r, diags := legacyjson.Convert(src, path, legacyjson.Options{Upgrade: true})
	files := map[string]*hcl.File{path: {Bytes: src}}
	e.ui.WriteDiagnostics(files, diags)
	if diags.HasErrors() {
		return exitUsage
	}
	if err := os.MkdirAll(filepath.Dir(o.outputFile), 0o755); err != nil {
		e.ui.Error("%v", err)
		return exitFailed
	}
	if err := os.WriteFile(o.outputFile, r.Formatted(), 0o644); err != nil {
		e.ui.Error("%v", err)
		return exitFailed
	}
	e.ui.Say("Wrote %s.", o.outputFile)
	return exitOK
}

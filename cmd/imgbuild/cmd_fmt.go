package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/pmezard/go-difflib/difflib"
)

var fmtCommand = command{
	synopsis: "Rewrite templates in the canonical HCL layout",
	usage:    "fmt [options] PATH... (PATH - formats standard input to standard output)",
	run:      runFmt,
}

type fmtOptions struct {
	check, diff, write, recursive bool
}

func runFmt(_ context.Context, e *env, args []string) int {
	var o fmtOptions
	fs := newFlagSet(e, "fmt")
	fs.BoolVar(&o.check, "check", false, "exit 3 when a file is not formatted; change nothing")
	fs.BoolVar(&o.diff, "diff", false, "print the changes as a unified diff")
	fs.BoolVar(&o.write, "write", true, "write the result back to the file")
	fs.BoolVar(&o.recursive, "recursive", false, "also format files in subdirectories")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	paths := fs.Args()
	if len(paths) == 1 && paths[0] == "-" {
		return fmtStdin(e, o)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := fmtFiles(paths, o.recursive)
	if err != nil {
		e.ui.Error("%v", err)
		return exitUsage
	}
	changed, code := 0, exitOK
	for _, f := range files {
		did, c := fmtFile(e, f, o)
		if c != exitOK {
			code = c
		}
		if did {
			changed++
		}
	}
	if o.check && changed > 0 && code == exitOK {
		return exitFmtCheck
	}
	return code
}

// exitFmtCheck is fmt -check's exit code when a file would change, as in
// Packer and Terraform.
const exitFmtCheck = 3

// fmtFiles lists the template and variable files named by paths.
func fmtFiles(paths []string, recursive bool) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (!recursive || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && isFormattable(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isFormattable(name string) bool {
	return strings.HasSuffix(name, ".pkr.hcl") || strings.HasSuffix(name, ".pkrvars.hcl")
}

// fmtStdin is "fmt -", as Packer's: the template on standard input is
// written formatted to standard output (with -check, only the exit code
// says whether it would change; with -diff, the diff is printed instead).
func fmtStdin(e *env, o fmtOptions) int {
	in := e.stdin
	if in == nil {
		in = os.Stdin
	}
	src, err := io.ReadAll(in)
	if err != nil {
		e.ui.Error("reading standard input: %v", err)
		return exitFailed
	}
	const name = "<stdin>"
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		e.ui.WriteDiagnostics(nil, diags)
		return exitUsage
	}
	out := hclwrite.Format(src)
	changed := !bytes.Equal(src, out)
	switch {
	case o.check:
	case o.diff:
		if changed {
			d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: difflib.SplitLines(string(src)), B: difflib.SplitLines(string(out)),
				FromFile: "old/" + name, ToFile: "new/" + name, Context: 3,
			})
			fmt.Fprint(e.stdout, d)
		}
	default:
		_, _ = e.stdout.Write(out)
	}
	if o.check && changed {
		return exitFmtCheck
	}
	return exitOK
}

// fmtFile formats one file and reports whether it changed.
func fmtFile(e *env, name string, o fmtOptions) (bool, int) {
	src, err := os.ReadFile(name)
	if err != nil {
		e.ui.Error("%v", err)
		return false, exitFailed
	}
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		e.ui.WriteDiagnostics(nil, diags)
		return false, exitUsage
	}
	out := hclwrite.Format(src)
	if bytes.Equal(src, out) {
		return false, exitOK
	}
	fmt.Fprintln(e.stdout, name)
	if o.diff {
		d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(src)), B: difflib.SplitLines(string(out)),
			FromFile: "old/" + name, ToFile: "new/" + name, Context: 3,
		})
		fmt.Fprint(e.stdout, d)
	}
	if o.write && !o.check {
		if err := os.WriteFile(name, out, 0o644); err != nil {
			e.ui.Error("%v", err)
			return true, exitFailed
		}
	}
	return true, exitOK
}

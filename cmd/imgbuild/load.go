package main

import (
	"flag"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/template"
)

// templateFlags are the flags every command that reads a template takes.
type templateFlags struct {
	vars     stringList
	varFiles stringList
}

func (f *templateFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.vars, "var", "set a variable: -var NAME=VALUE (repeatable)")
	fs.Var(&f.varFiles, "var-file", "read variables from a *.pkrvars.hcl or *.pkrvars.json file (repeatable)")
}

// loadTemplate loads a template and renders its diagnostics. It returns
// nil (and the exit code) when the template has errors.
func loadTemplate(e *env, path string, tf templateFlags, opts template.Options) (*template.Template, int) {
	opts.Vars, opts.VarFiles = tf.vars, tf.varFiles
	opts.Getenv = e.getenv
	t, diags := template.Load(path, opts)
	if _, err := awsapi.PollingFromEnv(e.getenv); err != nil {
		// The waits would silently fall back to their defaults.
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid polling setting in the environment",
			Detail: err.Error() + "; it stands for aws_polling {} as in Packer (AWS_MAX_ATTEMPTS, AWS_POLL_DELAY_SECONDS, AWS_TIMEOUT_SECONDS)."})
	}
	e.ui.Masker().Add(t.Secrets...)
	e.ui.WriteDiagnostics(t.Files, diags)
	if diags.HasErrors() {
		return nil, exitUsage
	}
	return t, exitOK
}

// onePath checks that exactly one template path was given.
func onePath(e *env, fs *flag.FlagSet) (string, bool) {
	if fs.NArg() != 1 {
		e.ui.Error("expected one template path (a *.pkr.hcl file or a directory), got %d arguments", fs.NArg())
		fs.Usage()
		return "", false
	}
	return fs.Arg(0), true
}

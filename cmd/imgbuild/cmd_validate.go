package main

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/template"
)

var validateCommand = command{
	synopsis: "Check that a template is valid, offline",
	usage:    "validate [options] PATH",
	run:      runValidate,
}

type validateOptions struct {
	syntaxOnly          bool
	evaluateDataSources bool
	only, except        string
	tf                  templateFlags
}

func runValidate(ctx context.Context, e *env, args []string) int {
	var o validateOptions
	fs := newFlagSet(e, "validate")
	fs.BoolVar(&o.syntaxOnly, "syntax-only", false, "only check that the files parse")
	fs.BoolVar(&o.evaluateDataSources, "evaluate-datasources", false, "resolve data sources against AWS (otherwise no network call is made)")
	fs.StringVar(&o.only, "only", "", "validate only the builds matching these comma-separated globs")
	fs.StringVar(&o.except, "except", "", "skip the builds matching these comma-separated globs")
	o.tf.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	path, ok := onePath(e, fs)
	if !ok {
		return exitUsage
	}
	opts := template.Options{SyntaxOnly: o.syntaxOnly}
	if o.evaluateDataSources {
		ev, err := newDataEvaluator(ctx, e)
		if err != nil {
			e.ui.Error("%v", err)
			return exitFailed
		}
		opts.Evaluator = ev
	}
	t, code := loadTemplate(e, path, o.tf, opts)
	if t == nil {
		return code
	}
	if o.syntaxOnly {
		fmt.Fprintln(e.stdout, "Syntax-only check passed. Everything looks okay.")
		return exitOK
	}
	if _, err := plan.New(t, plan.Selection{Only: splitGlobs(o.only), Except: splitGlobs(o.except)}); err != nil {
		e.ui.Error("%v", err)
		return exitUsage
	}
	fmt.Fprintln(e.stdout, "The configuration is valid.")
	return exitOK
}

package main

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/plan"
)

var graphCommand = command{
	synopsis: "Print the planned steps of every build as a graph",
	usage:    "graph [options] PATH",
	run:      runGraph,
}

func runGraph(_ context.Context, e *env, args []string) int {
	var (
		format, only, except string
		tf                   templateFlags
	)
	fs := newFlagSet(e, "graph")
	fs.StringVar(&format, "format", "dot", "output format: dot (Graphviz) or text")
	fs.StringVar(&only, "only", "", "graph only the builds matching these comma-separated globs")
	fs.StringVar(&except, "except", "", "leave out the builds matching these comma-separated globs")
	tf.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if format != "dot" && format != "text" {
		e.ui.Error("-format must be dot or text, not %q", format)
		return exitUsage
	}
	path, ok := onePath(e, fs)
	if !ok {
		return exitUsage
	}
	t, code := loadTemplate(e, path, tf, templateOptions())
	if t == nil {
		return code
	}
	p, err := plan.New(t, plan.Selection{Only: splitGlobs(only), Except: splitGlobs(except)})
	if err != nil {
		e.ui.Error("%v", err)
		return exitUsage
	}
	if format == "text" {
		err = p.WriteText(e.stdout)
	} else {
		err = p.WriteDOT(e.stdout)
	}
	if err != nil {
		e.ui.Error("write graph: %v", err)
		return exitFailed
	}
	return exitOK
}

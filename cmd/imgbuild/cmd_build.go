package main

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/plan"
)

var buildCommand = command{
	synopsis: "Build the images a template describes",
	usage:    "build [options] PATH",
	run:      runBuild,
}

func runBuild(_ context.Context, e *env, args []string) int {
	var (
		only, except string
		tf           templateFlags
	)
	fs := newFlagSet(e, "build")
	fs.StringVar(&only, "only", "", "build only the builds matching these comma-separated globs")
	fs.StringVar(&except, "except", "", "skip the builds matching these comma-separated globs")
	tf.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	path, ok := onePath(e, fs)
	if !ok {
		return exitUsage
	}
	t, code := loadTemplate(e, path, tf, templateOptions())
	if t == nil {
		return code
	}
	if _, err := plan.New(t, plan.Selection{Only: splitGlobs(only), Except: splitGlobs(except)}); err != nil {
		e.ui.Error("%v", err)
		return exitUsage
	}
	e.ui.Error("this imgbuild cannot run builds yet: the template is valid and planned (see 'imgbuild graph'), but the amazon-ebs executor is not part of this version")
	return exitFailed
}

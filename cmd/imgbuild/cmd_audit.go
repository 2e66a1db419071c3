package main

import (
	"context"
	"flag"
	"slices"
	"strings"

	"github.com/imgbuild/imgbuild/internal/audit"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/template"
)

var auditCommand = command{
	synopsis: "List instances not launched from an image of the template's builds (exit 1 when any)",
	usage:    "audit [options] PATH [--regions r1,r2]",
	run:      runAuditCommand,
}

// auditOptions are the flags of `imgbuild audit`.
type auditOptions struct {
	regions string
	json    bool
	tf      templateFlags
}

func (o *auditOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.regions, "regions", "", "comma-separated `regions` to audit (default: the regions the template's builds make images in: region and ami_regions)")
	fs.BoolVar(&o.json, "json", false, "write the report as JSON")
	o.tf.register(fs)
}

func runAuditCommand(ctx context.Context, e *env, args []string) int {
	var o auditOptions
	fs := newFlagSet(e, "audit")
	o.register(fs)
	paths, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(paths) != 1 {
		e.ui.Error("expected one template path (a *.pkr.hcl file or a directory), got %d arguments", len(paths))
		fs.Usage()
		return exitUsage
	}
	return runAudit(ctx, e, o, paths[0])
}

// runAudit loads the template, audits its regions and prints the report;
// the exit code is 1 when an instance is not launched from an approved
// image.
func runAudit(ctx context.Context, e *env, o auditOptions, path string) int {
	logger, closeLog := newLogger(e)
	defer closeLog()
	ev, err := newDataEvaluator(ctx, e)
	if err != nil {
		e.ui.Error("%v", err)
		return exitFailed
	}
	t, code := loadTemplate(e, path, o.tf, templateOptionsWith(ev))
	if t == nil {
		return code
	}
	recipes, regions, access := auditTargets(t)
	if o.regions != "" {
		regions = splitList(o.regions)
	}
	switch {
	case len(recipes) == 0:
		e.ui.Error("audit: %s has no build of an amazon source: no recipe to approve images of", path)
		return exitUsage
	case len(regions) == 0:
		e.ui.Error("audit: no region to audit: give --regions")
		return exitUsage
	}
	access.Region = regions[0]
	sess, err := awsapi.NewSession(ctx, access, awsapi.WithLogger(logger))
	if err != nil {
		e.ui.Error("audit: %v", err)
		return exitCodeFor(err)
	}
	rep, err := audit.Run(ctx, func(region string) audit.EC2API { return sess.EC2(region) }, regions, recipes)
	if err != nil {
		e.ui.Error("audit: %v", err)
		return exitCodeFor(err)
	}
	if o.json {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	switch {
	case err != nil:
		e.ui.Error("audit: write the report: %v", err)
		return exitFailed
	case len(rep.Instances) > 0:
		return exitFailed
	}
	return exitOK
}

// auditTargets returns the full names of the template's builds of amazon
// sources (the recipes), the regions they make images in, and the access
// of the first of them (by name), which the audit uses everywhere.
func auditTargets(t *template.Template) (recipes, regions []string, access awsapi.Access) {
	first := ""
	for _, b := range t.Builds {
		for _, use := range b.Sources {
			a, ok := use.Config.(accessor)
			if !ok {
				continue
			}
			name := use.FullName(b)
			recipes = append(recipes, name)
			regions = append(regions, imageRegions(use.Config)...)
			if first == "" || name < first {
				first, access = name, a.Access()
			}
		}
	}
	slices.Sort(regions)
	return recipes, slices.Compact(regions), access
}

// imageRegions returns the regions a source's images land in: its region
// and ami_regions.
func imageRegions(cfg any) []string {
	switch c := cfg.(type) {
	case interface{ ImageRegions() []string }:
		return nonEmpty(c.ImageRegions()...)
	case accessor:
		return nonEmpty(c.Access().Region)
	}
	return nil
}

func nonEmpty(in ...string) []string {
	return slices.DeleteFunc(in, func(s string) bool { return s == "" })
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

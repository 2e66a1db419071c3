package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/runner"
)

var planCommand = command{
	synopsis: "Show what build would do, reading AWS and changing nothing",
	usage:    "plan [options] PATH",
	run:      runPlan,
}

// exitChanges is plan's exit code with -detailed-exitcode when a build
// would change something (Terraform's convention); errors are then 1.
const exitChanges = 2

func runPlan(ctx context.Context, e *env, args []string) int {
	var (
		only, except     string
		force, asJSON    bool
		detailedExitCode bool
		tf               templateFlags
	)
	fs := newFlagSet(e, "plan")
	fs.StringVar(&only, "only", "", "plan only the builds matching these comma-separated globs")
	fs.StringVar(&except, "except", "", "skip the builds matching these comma-separated globs")
	fs.BoolVar(&force, "force", false, "plan as build --force would: every build is built")
	fs.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	fs.BoolVar(&detailedExitCode, "detailed-exitcode", false, "exit 0 when there is nothing to do, 2 when there is something, 1 on errors")
	tf.register(fs)
	fail := func(code int) int {
		if detailedExitCode && code != exitOK {
			return exitFailed
		}
		return code
	}
	if code, ok := parseFlags(fs, args); !ok {
		return fail(code)
	}
	path, ok := onePath(e, fs)
	if !ok {
		return fail(exitUsage)
	}
	logger, closeLog := newLogger(e)
	defer closeLog()
	ev, err := newDataEvaluator(ctx, e)
	if err != nil {
		e.ui.Error("%v", err)
		return fail(exitFailed)
	}
	t, code := loadTemplate(e, path, tf, templateOptionsWith(ev))
	if t == nil {
		return fail(code)
	}
	p, err := plan.New(t, plan.Selection{Only: splitGlobs(only), Except: splitGlobs(except)})
	if err != nil {
		e.ui.Error("%v", err)
		return fail(exitUsage)
	}
	previews, err := runner.PreviewRun(ctx, runner.Options{Template: t, Plan: p, Force: force, UI: e.ui, Logger: logger})
	if err != nil {
		e.ui.Error("%v", err)
		return fail(exitCodeFor(err))
	}
	changes := false
	for _, pv := range previews {
		changes = changes || pv.Changes()
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Builds  []*runner.Preview `json:"builds"`
			Changes bool              `json:"changes"`
		}{previews, changes}); err != nil {
			e.ui.Error("%v", err)
			return fail(exitFailed)
		}
	} else {
		writePlan(e.stdout, previews, force)
	}
	if detailedExitCode && changes {
		return exitChanges
	}
	return exitOK
}

// writePlan prints per build and region what build would do, and why.
func writePlan(w io.Writer, previews []*runner.Preview, force bool) {
	counts := map[string]int{}
	for _, pv := range previews {
		counts[pv.Status]++
		fmt.Fprintf(w, "%s: %s\n", pv.Name, planVerb(pv.Status))
		fmt.Fprintf(w, "  fingerprint %s\n", pv.Fingerprint)
		switch {
		case pv.Parent != "":
			fmt.Fprintf(w, "  source: the image of build %s\n", pv.Parent)
		case pv.Source != "":
			fmt.Fprintf(w, "  source: %s\n", pv.Source)
		}
		fmt.Fprintf(w, "  why: %s\n", planReason(pv, force))
		for _, r := range pv.Regions {
			switch r.Action {
			case "keep":
				fmt.Fprintf(w, "  %s: keep %s (built %s)\n", r.Region, r.ImageID, r.Built)
			case "copy":
				fmt.Fprintf(w, "  %s: copy from %s\n", r.Region, r.From)
			default:
				fmt.Fprintf(w, "  %s: build from an instance\n", r.Region)
			}
		}
		for _, pp := range pv.PostProcessors {
			name := pp.Type
			if pp.Name != "" {
				name += " " + pp.Name
			}
			if len(pp.Actions) == 0 {
				fmt.Fprintf(w, "  post-processor %s: nothing to do\n", name)
			}
			for _, a := range pp.Actions {
				fmt.Fprintf(w, "  post-processor %s: %s\n", name, a)
			}
		}
	}
	fmt.Fprintf(w, "Plan: %d to build, %d to complete, %d up to date.\n",
		counts[artifact.StatusBuilt], counts[artifact.StatusCompleted], counts[artifact.StatusUpToDate])
}

func planVerb(status string) string {
	switch status {
	case artifact.StatusUpToDate:
		return "up to date"
	case artifact.StatusCompleted:
		return "complete the missing regions"
	}
	return "build"
}

// planReason says why a build gets its status.
func planReason(pv *runner.Preview, force bool) string {
	var missing, have []string
	for _, r := range pv.Regions {
		if r.Action == "keep" {
			have = append(have, r.Region)
		} else {
			missing = append(missing, r.Region)
		}
	}
	switch {
	case pv.Status == artifact.StatusUpToDate:
		return "an image of this fingerprint is in every region"
	case pv.Status == artifact.StatusCompleted:
		return fmt.Sprintf("an image of this fingerprint is in %s but not in %s", strings.Join(have, ", "), strings.Join(missing, ", "))
	case force:
		return "-force"
	case pv.Parent != "":
		return "no image has this fingerprint: an input or the parent build changed, or it was never built"
	}
	return "no image has this fingerprint: an input changed (source image, configuration, scripts or files), or it was never built"
}

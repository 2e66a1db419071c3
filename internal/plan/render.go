package plan

import (
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes the plan as a Graphviz digraph: one cluster per build,
// solid edges for dependencies, and dashed edges for cleanup, which runs
// in reverse start order whatever the outcome.
func (p *Plan) WriteDOT(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("digraph imgbuild {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n")
	for i, bp := range p.Builds {
		ew.printf("  subgraph cluster_%d {\n    label=%q;\n", i, bp.Name)
		for _, s := range bp.Steps {
			ew.printf("    %q [label=%q];\n", s.ID, s.Label)
		}
		cleanups := bp.cleanupOrder()
		for _, s := range cleanups {
			ew.printf("    %q [label=%q, style=dashed];\n", s.ID+"#cleanup", "cleanup: "+s.Cleanup)
		}
		ew.printf("  }\n")
		for _, s := range bp.Steps {
			for _, d := range s.Deps {
				ew.printf("  %q -> %q;\n", d, s.ID)
			}
		}
		for i, s := range cleanups {
			ew.printf("  %q -> %q [style=dotted, arrowhead=none];\n", s.ID, s.ID+"#cleanup")
			if i > 0 {
				ew.printf("  %q -> %q [style=dashed];\n", cleanups[i-1].ID+"#cleanup", s.ID+"#cleanup")
			}
		}
	}
	ew.printf("}\n")
	return ew.err
}

// WriteText writes the plan as an indented list a person can read.
func (p *Plan) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	for i, bp := range p.Builds {
		if i > 0 {
			ew.printf("\n")
		}
		ew.printf("%s:\n", bp.Name)
		for _, s := range bp.Steps {
			ew.printf("  %-40s %s", shortID(bp, s.ID), s.Label)
			if len(s.Deps) > 0 {
				deps := make([]string, len(s.Deps))
				for i, d := range s.Deps {
					deps[i] = shortID(bp, d)
				}
				ew.printf("  (after %s)", strings.Join(deps, ", "))
			}
			ew.printf("\n")
		}
		if cl := bp.cleanupOrder(); len(cl) > 0 {
			ew.printf("  cleanup, in this order, on success, failure or interrupt:\n")
			for _, s := range cl {
				ew.printf("    %s\n", s.Cleanup)
			}
		}
	}
	return ew.err
}

// cleanupOrder returns the steps with a cleanup, last started first.
func (bp *BuildPlan) cleanupOrder() []*Step {
	var out []*Step
	for i := len(bp.Steps) - 1; i >= 0; i-- {
		if bp.Steps[i].Cleanup != "" {
			out = append(out, bp.Steps[i])
		}
	}
	return out
}

func shortID(bp *BuildPlan, id string) string { return strings.TrimPrefix(id, bp.Name+"/") }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

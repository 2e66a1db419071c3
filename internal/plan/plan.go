// Package plan turns a loaded template into the steps of every selected
// build: which cloud operations run, in which order, in which regions, and
// what each step's cleanup undoes. The graph command renders a plan; the
// build executor runs one.
package plan

import (
	"fmt"
	"strings"

	"github.com/gobwas/glob"

	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/template"
)

// Selection picks builds by glob on their names (-only / -except). A glob
// matches a build's full name ("base.amazon-ebs.al2023") or its source use
// name ("amazon-ebs.al2023").
type Selection struct {
	Only, Except []string
}

// The kinds of the steps the engine adds to every build: the template's
// provisioners and post-processors. Builders name the kinds of their own
// steps.
const (
	Provision   builder.StepKind = "provision"
	PostProcess builder.StepKind = "post-process"
)

// Step is one node of a build's plan: a builder step, or a provisioner or
// post-processor step, which holds its template block.
type Step struct {
	builder.Step

	Provisioner   *template.Provisioner
	PostProcessor *template.PostProcessor
}

// BuildPlan is the plan of one source use of one build.
type BuildPlan struct {
	Name  string // full name, e.g. base.amazon-ebs.al2023
	Build *template.Build
	Use   *template.SourceUse
	Steps []*Step
	// Existing are the images of the build's fingerprint found before the
	// run, by region (Replan); nil when the build makes its image.
	Existing map[string]builder.Found
	// Parent is the build whose image is this build's source
	// (source_build), needed in ParentRegion.
	Parent       *BuildPlan
	ParentRegion string
	// Strategy is the build's effective image strategy ("" bakes all).
	Strategy string
	// Baked are the provisioners that run on the build's instance, in
	// order: those that apply to the use and that the strategy bakes.
	Baked []*template.Provisioner
	// BootPayload is the user data compiled from the provisioners the
	// strategy defers, in order (nil when none is deferred).
	BootPayload []byte
}

// Plan is the plan of every selected build.
type Plan struct {
	Builds []*BuildPlan
}

// New plans every build of t that the selection picks. It fails when a
// glob is malformed or picks nothing.
func New(t *template.Template, sel Selection) (*Plan, error) {
	match, err := sel.compile()
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	for _, b := range t.Builds {
		for _, use := range b.Sources {
			if !match(use.FullName(b), use.UseName()) || use.Config == nil {
				continue
			}
			bp := &BuildPlan{Name: use.FullName(b), Build: b, Use: use}
			if err := planBuild(bp); err != nil {
				return nil, fmt.Errorf("plan %s: %w", bp.Name, err)
			}
			if err := compilePayload(bp, t.WorkDir); err != nil {
				return nil, fmt.Errorf("plan %s: %w", bp.Name, err)
			}
			p.Builds = append(p.Builds, bp)
		}
	}
	if len(p.Builds) == 0 {
		return nil, fmt.Errorf("no build matches -only %q / -except %q", strings.Join(sel.Only, ","), strings.Join(sel.Except, ","))
	}
	if err := p.link(); err != nil {
		return nil, err
	}
	return p, nil
}

func (s Selection) compile() (func(full, use string) bool, error) {
	only, err := compileGlobs(s.Only)
	if err != nil {
		return nil, err
	}
	except, err := compileGlobs(s.Except)
	if err != nil {
		return nil, err
	}
	anyMatch := func(gs []*glob.Pattern, full, use string) bool {
		for _, g := range gs {
			if g.Match(full) || g.Match(use) {
				return true
			}
		}
		return false
	}
	return func(full, use string) bool {
		if len(only) > 0 && !anyMatch(only, full, use) {
			return false
		}
		return !anyMatch(except, full, use)
	}, nil
}

func compileGlobs(patterns []string) ([]*glob.Pattern, error) {
	var out []*glob.Pattern
	for _, p := range patterns {
		g, err := glob.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("invalid glob %q: %w", p, err)
		}
		out = append(out, g)
	}
	return out, nil
}

// Step returns the step with the given ID.
func (p *Plan) Step(id string) *Step {
	for _, bp := range p.Builds {
		for _, s := range bp.Steps {
			if s.ID == id {
				return s
			}
		}
	}
	return nil
}

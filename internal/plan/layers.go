package plan

import (
	"fmt"
	"strings"

	"github.com/imgbuild/imgbuild/internal/builder"
)

// Existing returns the images of the build's fingerprint found before the
// run (nil: the build makes its image).
func (p *planner) Existing() map[string]builder.Found { return p.bp.Existing }

// Replan plans every build again with what exists already: existing maps
// a build's full name to its images by region. A build with images in
// some regions plans only what is missing; one with images everywhere
// plans no cloud step at all.
func (p *Plan) Replan(existing map[string]map[string]builder.Found) error {
	for _, bp := range p.Builds {
		bp.Existing = existing[bp.Name]
		bp.Steps = nil
		if err := planBuild(bp); err != nil {
			return fmt.Errorf("plan %s: %w", bp.Name, err)
		}
	}
	return p.link()
}

// UpToDate reports whether bp, planned with existing (the images of its
// fingerprint by region), makes no image: every region it keeps one in
// has it. bp itself is not changed.
func UpToDate(bp *BuildPlan, existing map[string]builder.Found) (bool, error) {
	if len(existing) == 0 {
		return false, nil
	}
	scratch := *bp
	scratch.Existing, scratch.Steps = existing, nil
	if err := planBuild(&scratch); err != nil {
		return false, fmt.Errorf("plan %s: %w", bp.Name, err)
	}
	return !scratch.MakesImage(), nil
}

// MakesImage reports whether the plan of bp makes an image in some region
// (image creation or a copy); a build planned with images everywhere
// makes none.
func (bp *BuildPlan) MakesImage() bool {
	for _, s := range bp.Steps {
		if s.ImageIn != "" {
			return true
		}
	}
	return false
}

// link finds the parent of every build whose source is another build's
// image (source_build), refuses unknown parents and cycles, and makes the
// child's first step wait for the parent's step that makes the image
// available in the child's region.
func (p *Plan) link() error {
	for _, bp := range p.Builds {
		bp.Parent, bp.ParentRegion = nil, ""
		l, ok := bp.Use.Config.(builder.Layered)
		if !ok {
			continue
		}
		name, region := l.ParentBuild()
		if name == "" {
			continue
		}
		parent, err := p.find(name)
		if err != nil {
			return fmt.Errorf("%s: %s: source_build: %w", bp.Use.DeclRange, bp.Name, err)
		}
		if parent == bp {
			return fmt.Errorf("%s: %s: source_build names the build itself", bp.Use.DeclRange, bp.Name)
		}
		bp.Parent, bp.ParentRegion = parent, region
	}
	for _, bp := range p.Builds {
		if err := checkCycle(bp); err != nil {
			return err
		}
		if bp.Parent == nil || bp.Existing != nil {
			continue // the build does not launch: it needs no parent image
		}
		if _, ok := bp.Parent.Existing[bp.ParentRegion]; ok {
			continue // the parent's image exists there already
		}
		var dep *Step
		for _, s := range bp.Parent.Steps {
			if s.ImageIn == bp.ParentRegion {
				dep = s
			}
		}
		if dep == nil {
			return fmt.Errorf("%s: %s: source_build %q makes no image in %s, the region this build runs in: add %s to its ami_regions",
				bp.Use.DeclRange, bp.Name, bp.Parent.Name, bp.ParentRegion, bp.ParentRegion)
		}
		first := bp.Steps[0]
		first.Deps = append(first.Deps, dep.ID)
	}
	return nil
}

// find returns the selected build named name: a build block's name when
// it has one source, or a full name "build.type.name".
func (p *Plan) find(name string) (*BuildPlan, error) {
	var matches []*BuildPlan
	for _, bp := range p.Builds {
		if bp.Name == name || bp.Build.Name == name {
			matches = append(matches, bp)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return nil, fmt.Errorf("no build %q in this run (a build block's name, or a full name such as \"base.amazon-ebs.al2023\"; -only and -except must select it too)", name)
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = m.Name
	}
	return nil, fmt.Errorf("build %q has several sources; name one of %s", name, strings.Join(names, ", "))
}

// checkCycle refuses a chain of source_build that comes back to bp.
func checkCycle(bp *BuildPlan) error {
	seen := map[*BuildPlan]bool{}
	chain := []string{bp.Name}
	for b := bp.Parent; b != nil; b = b.Parent {
		chain = append(chain, b.Name)
		if b == bp || seen[b] {
			return fmt.Errorf("%s: source_build makes a cycle: %s", bp.Use.DeclRange, strings.Join(chain, " -> "))
		}
		seen[b] = true
	}
	return nil
}

// Layers returns the builds in an order where every parent comes before
// its children.
func (p *Plan) Layers() []*BuildPlan {
	var out []*BuildPlan
	done := map[*BuildPlan]bool{}
	var visit func(bp *BuildPlan)
	visit = func(bp *BuildPlan) {
		if done[bp] {
			return
		}
		done[bp] = true
		if bp.Parent != nil {
			visit(bp.Parent)
		}
		out = append(out, bp)
	}
	for _, bp := range p.Builds {
		visit(bp)
	}
	return out
}

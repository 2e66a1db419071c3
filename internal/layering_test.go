package internal_test

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

const module = "github.com/imgbuild/imgbuild"

// Dependencies point one way (DESIGN.md section 4): cmd -> runner ->
// builders -> shared amazon steps -> engine packages. The engine reaches a
// builder only through the registry's component table.

// engine are the packages that must not depend on any builder package,
// not even through another package.
var engine = []string{"internal/dag", "internal/awsapi", "internal/journal", "internal/sweep", "internal/builder", "internal/tags"}

// unnamed are the packages that must not import a builder package
// themselves: they find a build's builder through the registry (which
// the template loader, and so they, import).
var unnamed = []string{"internal/plan", "internal/runner"}

// TestLayering fails when a package imports up the layers.
func TestLayering(t *testing.T) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedImports, Dir: ".."}
	pkgs, err := packages.Load(cfg, module+"/...")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{}
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			t.Fatalf("load %s: %v", p.PkgPath, p.Errors)
		}
		for imp := range p.Imports {
			imports[rel(p.PkgPath)] = append(imports[rel(p.PkgPath)], rel(imp))
		}
	}
	for _, v := range violations(imports) {
		t.Error(v)
	}
}

// TestLayeringCatches runs the rules on import graphs that break them,
// such as the layout before the builder contract, where the planner
// switched on the amazon-ebs Config.
func TestLayeringCatches(t *testing.T) {
	for name, tc := range map[string]struct {
		imports map[string][]string
		want    string
	}{
		"plan names a builder": {map[string][]string{
			"internal/plan": {"builders/amazon", "builders/amazon/ebs", "internal/template"},
		}, "internal/plan imports builders/amazon/ebs"},
		"runner names a builder": {map[string][]string{
			"internal/runner": {"builders/amazon/ebs/ebsbuild", "internal/plan"},
		}, "internal/runner imports builders/amazon/ebs/ebsbuild"},
		"sweep reaches a builder": {map[string][]string{
			"internal/sweep":   {"internal/builder"},
			"internal/builder": {"internal/plan"},
			"internal/plan":    {"builders/amazon/ebs"},
		}, "internal/sweep depends on builders/amazon/ebs (internal/sweep -> internal/builder -> internal/plan -> builders/amazon/ebs)"},
		"shared steps name a builder": {map[string][]string{
			"builders/amazon/steps": {"builders/amazon", "internal/dag", "internal/tags"},
			"internal/tags":         {"builders/amazon/ebs"},
		}, "builders/amazon/steps depends on builders/amazon/ebs (builders/amazon/steps -> internal/tags -> builders/amazon/ebs)"},
	} {
		t.Run(name, func(t *testing.T) {
			got := violations(tc.imports)
			if !slices.Contains(got, tc.want) {
				t.Errorf("violations %q, want %q", got, tc.want)
			}
		})
	}
}

// violations returns every import that breaks the layering, given each
// package's direct imports (paths relative to the module).
func violations(imports map[string][]string) []string {
	var out []string
	for _, p := range unnamed {
		for _, imp := range imports[p] {
			if under(imp, "builders") {
				out = append(out, fmt.Sprintf("%s imports %s", p, imp))
			}
		}
	}
	for p := range imports {
		switch {
		case slices.Contains(engine, p):
			out = append(out, dependsOn(imports, p, func(q string) bool { return under(q, "builders") })...)
		case under(p, "builders") && path.Base(p) == "steps":
			// shared steps may use their family's package, not a builder
			out = append(out, dependsOn(imports, p, func(q string) bool { return under(q, "builders") && !under(p, q) })...)
		}
	}
	slices.Sort(out)
	return out
}

// dependsOn returns a message for each package that from depends on,
// directly or not, and that bad reports, with one import chain to it.
func dependsOn(imports map[string][]string, from string, bad func(string) bool) []string {
	var out []string
	via := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range imports[p] {
			if _, seen := via[imp]; seen {
				continue
			}
			via[imp] = p
			if bad(imp) {
				out = append(out, fmt.Sprintf("%s depends on %s (%s)", from, imp, chain(via, imp)))
				continue
			}
			queue = append(queue, imp)
		}
	}
	return out
}

// chain returns the import chain that reached p.
func chain(via map[string]string, p string) string {
	var c []string
	for ; p != ""; p = via[p] {
		c = append(c, p)
	}
	slices.Reverse(c)
	return strings.Join(c, " -> ")
}

// under reports whether p is dir or a package below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// rel returns a package path relative to the module; other packages keep
// their full path.
func rel(p string) string { return strings.TrimPrefix(p, module+"/") }

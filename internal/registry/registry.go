// Package registry lists every component imgbuild knows, in one place, with
// the HCL spec that decodes its configuration and a constructor for its
// typed Config. There is no init() registration: adding a component means
// adding a line to the table in components.go.
package registry

import (
	"sort"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/check"
)

// Kind says where in a template a component may appear.
type Kind string

// The kinds of component.
const (
	Builder       Kind = "source"
	Provisioner   Kind = "provisioner"
	PostProcessor Kind = "post-processor"
	DataSource    Kind = "data"
)

// Config is a component's typed configuration. Prepare checks it offline
// (no network), filling defaults and recording diagnostics in ctx.
type Config interface {
	Prepare(ctx *check.Context)
}

// Component describes one component type.
type Component struct {
	Kind Kind
	Type string      // the HCL type label, e.g. "amazon-ebs"
	Spec hcldec.Spec // generated in package hcl2spec
	New  func() Config

	// Builder plans and runs the builds of a builder component; nil for
	// other kinds.
	Builder builder.Builder

	// Output is the type of a data source's result object, so the engine
	// can give data.<type>.<name> an unknown value of the right type at
	// validate time. cty.NilType for other kinds.
	Output cty.Type
}

// Lookup returns the component of the given kind and type.
func Lookup(kind Kind, typ string) (Component, bool) {
	for _, c := range components {
		if c.Kind == kind && c.Type == typ {
			return c, true
		}
	}
	return Component{}, false
}

// Types returns the sorted type names of one kind, for suggestions.
func Types(kind Kind) []string {
	var out []string
	for _, c := range components {
		if c.Kind == kind {
			out = append(out, c.Type)
		}
	}
	sort.Strings(out)
	return out
}

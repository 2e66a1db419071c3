package template

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// traversalNames returns up to n leading attribute names of a traversal.
func traversalNames(tr hcl.Traversal, n int) []string {
	var out []string
	for _, step := range tr {
		if len(out) == n {
			break
		}
		switch s := step.(type) {
		case hcl.TraverseRoot:
			out = append(out, s.Name)
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		default:
			return out
		}
	}
	return out
}

// bodyVariables lists the references made by a body decoded with spec.
func bodyVariables(body hcl.Body, spec hcldec.Spec) []hcl.Traversal {
	if spec == nil {
		return nil
	}
	// dynamic blocks' for_each and content are walked too; references to
	// their iterators are not listed.
	return dynblock.VariablesHCLDec(body, spec)
}

// refContext says which extra root names are valid where references are
// checked (inside builds: source and build).
type refContext struct {
	inBuild bool
}

// checkRefs reports references to undeclared variables, locals and data
// sources, with suggestions. It returns false if any was bad.
func (l *loader) checkRefs(refs []hcl.Traversal) bool {
	return l.checkRefsIn(refs, refContext{})
}

func (l *loader) checkRefsIn(refs []hcl.Traversal, rc refContext) bool {
	ok := true
	for _, tr := range refs {
		if d := l.checkRef(tr, rc); d != nil {
			l.diags = append(l.diags, d)
			ok = false
		}
	}
	return ok
}

func (l *loader) checkRef(tr hcl.Traversal, rc refContext) *hcl.Diagnostic {
	names := traversalNames(tr, 3)
	rng := tr.SourceRange()
	bad := func(summary, detail string) *hcl.Diagnostic {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng}
	}
	root := names[0]
	switch root {
	case "var":
		if len(names) < 2 {
			return bad("Invalid reference", "A reference to a variable needs a name, as in var.region.")
		}
		if _, ok := l.t.Variables[names[1]]; !ok {
			return bad("Reference to undeclared input variable",
				fmt.Sprintf("An input variable named %q has not been declared.%s", names[1], suggest(names[1], sortedKeys(l.t.Variables))))
		}
	case "local":
		if len(names) < 2 {
			return bad("Invalid reference", "A reference to a local value needs a name, as in local.name.")
		}
		if _, ok := l.t.Locals[names[1]]; !ok {
			return bad("Reference to undeclared local value",
				fmt.Sprintf("A local value named %q has not been declared.%s", names[1], suggest(names[1], sortedKeys(l.t.Locals))))
		}
	case "data":
		if len(names) < 3 {
			return bad("Invalid reference", "A reference to a data source needs a type and a name, as in data.amazon-ami.base.")
		}
		key := names[1] + "." + names[2]
		if _, ok := l.t.Data[key]; !ok {
			return bad("Reference to undeclared data source",
				fmt.Sprintf("A data source %q has not been declared.%s", "data."+key, suggest(key, sortedKeys(l.t.Data))))
		}
	case "path", "packer":
	case "source", "build":
		if !rc.inBuild {
			return bad("Invalid reference", fmt.Sprintf("%q can only be used inside a build block.", root))
		}
	default:
		roots := []string{"var", "local", "data", "path", "packer"}
		if rc.inBuild {
			roots = append(roots, "source", "build")
		}
		return bad("Unknown reference", fmt.Sprintf("There is no object named %q.%s", root, suggest(root, roots)))
	}
	return nil
}

// evalContext returns the evaluation context with every value known so far.
func (l *loader) evalContext() *hcl.EvalContext {
	vars := map[string]cty.Value{}
	for name, v := range l.t.Variables {
		vars[name] = v.Value
	}
	locals := map[string]cty.Value{}
	for name, loc := range l.t.Locals {
		locals[name] = nullOr(loc.Value, cty.DynamicPseudoType)
	}
	data := map[string]map[string]cty.Value{}
	for _, ds := range l.t.Data {
		if data[ds.Type] == nil {
			data[ds.Type] = map[string]cty.Value{}
		}
		data[ds.Type][ds.Name] = nullOr(ds.Value, ds.Component.Output)
	}
	dataObj := map[string]cty.Value{}
	for typ, m := range data {
		dataObj[typ] = cty.ObjectVal(m)
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":    cty.ObjectVal(vars),
			"local":  cty.ObjectVal(locals),
			"data":   cty.ObjectVal(dataObj),
			"path":   l.path,
			"packer": l.packerObject(),
		},
		Functions: l.functions(),
	}
}

// placeholder returns the stand-in output of a data source that was not
// contacted: strings look like what the real source returns, so checks of
// values that come from it (such as the ami- ID format) still pass.
func placeholder(typ string, ty cty.Type) cty.Value {
	// data "http" is checked offline: what the URL answers is not known
	// until the build, and no stand-in resembles it.
	if typ == "http" || !ty.IsObjectType() {
		return cty.UnknownVal(ty)
	}
	attrs := map[string]cty.Value{}
	for name, aty := range ty.AttributeTypes() {
		switch {
		case aty == cty.String && (name == "id" || (typ == "amazon-parameterstore" && name == "value")):
			attrs[name] = cty.StringVal("ami-00000000000000000")
		case aty == cty.String:
			attrs[name] = cty.StringVal("placeholder-" + strings.ReplaceAll(name, "_", "-"))
		case aty == cty.Number:
			attrs[name] = cty.NumberIntVal(1)
		case aty == cty.Bool:
			attrs[name] = cty.False
		default:
			attrs[name] = cty.UnknownVal(aty)
		}
	}
	return cty.ObjectVal(attrs)
}

package template

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/registry"
)

var localBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "expression", Required: true}, {Name: "sensitive"}},
}

func (l *loader) declareLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for _, a := range sortedAttrs(attrs) {
		if prev, ok := l.t.Locals[a.Name]; ok {
			l.duplicateAttr(a, "local", prev.DeclRange)
			continue
		}
		l.t.Locals[a.Name] = &Local{Name: a.Name, Expr: a.Expr, DeclRange: a.Range}
	}
}

func (l *loader) declareLocal(b *hcl.Block) {
	name := b.Labels[0]
	if !l.checkName(b, "local", name) {
		return
	}
	if prev, ok := l.t.Locals[name]; ok {
		l.duplicate(b, "local", name, prev.DeclRange)
		return
	}
	content, diags := b.Body.Content(localBlockSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	loc := &Local{Name: name, Expr: content.Attributes["expression"].Expr, DeclRange: b.DefRange}
	if a, ok := content.Attributes["sensitive"]; ok {
		l.diags = append(l.diags, gohcl.DecodeExpression(a.Expr, nil, &loc.Sensitive)...)
	}
	l.t.Locals[name] = loc
}

func (l *loader) declareData(b *hcl.Block) {
	typ, name := b.Labels[0], b.Labels[1]
	key := typ + "." + name
	comp, ok := registry.Lookup(registry.DataSource, typ)
	if !ok {
		l.unknownType(b, registry.DataSource, typ)
		// Keep it, unknown, so references to it add no further errors.
		comp = registry.Component{Kind: registry.DataSource, Type: typ, Output: cty.DynamicPseudoType}
		l.t.Data[key] = &DataSource{Type: typ, Name: name, Component: comp, Body: b.Body, DeclRange: b.DefRange, broken: true}
		return
	}
	if prev, ok := l.t.Data[key]; ok {
		l.duplicate(b, "data", key, prev.DeclRange)
		return
	}
	l.t.Data[key] = &DataSource{Type: typ, Name: name, Component: comp, Body: b.Body, DeclRange: b.DefRange}
}

func (l *loader) declareSource(b *hcl.Block) {
	typ, name := b.Labels[0], b.Labels[1]
	key := typ + "." + name
	comp, ok := registry.Lookup(registry.Builder, typ)
	if !ok {
		l.unknownType(b, registry.Builder, typ)
		l.brokenSources[key] = true
		return
	}
	if prev, ok := l.t.Sources[key]; ok {
		l.duplicate(b, "source", key, prev.DeclRange)
		return
	}
	l.t.Sources[key] = &Source{Type: typ, Name: name, Component: comp, Body: b.Body, DeclRange: b.DefRange}
}

// evalNode is a local or data source in the evaluation graph.
type evalNode struct {
	key   string // "local.x" or "data.t.n"
	local *Local
	data  *DataSource
	refs  []hcl.Traversal
	rng   hcl.Range
}

// evaluateLocalsAndData evaluates locals and data sources in dependency
// order, reporting undeclared references and cycles.
func (l *loader) evaluateLocalsAndData() {
	nodes := l.evalNodes()
	order, cyclic := topoSort(nodes)
	for _, cycle := range cyclic {
		first := nodes[cycle[0]]
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Cycle in local values and data sources",
			Detail:  fmt.Sprintf("These refer to each other in a loop, so none can be evaluated: %s.", joinCycle(cycle)),
			Subject: first.rng.Ptr(),
		})
	}
	for _, key := range order {
		n := nodes[key]
		ctx := l.evalContext()
		if (n.data != nil && n.data.broken) || !l.checkRefs(n.refs) {
			l.setUnknown(n)
			continue
		}
		if n.local != nil {
			l.evalLocal(n.local, ctx)
		} else {
			l.evalData(n.data, ctx)
		}
	}
	for _, cycle := range cyclic {
		for _, key := range cycle {
			l.setUnknown(nodes[key])
		}
	}
}

func (l *loader) evalNodes() map[string]*evalNode {
	nodes := map[string]*evalNode{}
	for name, loc := range l.t.Locals {
		nodes["local."+name] = &evalNode{key: "local." + name, local: loc, refs: loc.Expr.Variables(), rng: loc.DeclRange}
	}
	for key, ds := range l.t.Data {
		refs := bodyVariables(ds.Body, ds.Component.Spec)
		nodes["data."+key] = &evalNode{key: "data." + key, data: ds, refs: refs, rng: ds.DeclRange}
	}
	return nodes
}

func (l *loader) setUnknown(n *evalNode) {
	if n.local != nil {
		n.local.Value = cty.DynamicVal
	} else {
		n.data.Value = cty.UnknownVal(n.data.Component.Output)
	}
}

func (l *loader) evalLocal(loc *Local, ctx *hcl.EvalContext) {
	val, diags := loc.Expr.Value(ctx)
	if loc.Sensitive {
		for _, d := range diags {
			d.EvalContext, d.Expression = nil, nil
		}
	}
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		val = cty.DynamicVal
	}
	loc.Value = val
	if loc.Sensitive {
		l.addSecrets(val)
	}
}

// evalData decodes and checks a data source, then resolves it with the
// Evaluator or gives it placeholder outputs.
func (l *loader) evalData(ds *DataSource, ctx *hcl.EvalContext) {
	ds.Config = l.decodeComponent(ds.Component, ds.Body, ctx)
	if ds.Config == nil {
		ds.Value = cty.UnknownVal(ds.Component.Output)
		return
	}
	if l.opts.Evaluator == nil {
		ds.Value = placeholder(ds.Type, ds.Component.Output)
		return
	}
	val, err := l.opts.Evaluator.Evaluate(ds)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: fmt.Sprintf("Data source %s failed", ds.Ref()),
			Detail: err.Error(), Subject: ds.DeclRange.Ptr(),
		})
		ds.Value = cty.UnknownVal(ds.Component.Output)
		return
	}
	// A data source marks its secret outputs (a decrypted SecureString);
	// they are masked in all output and the value goes on unmarked.
	val, secrets := registry.UnmarkSensitive(val)
	l.t.Secrets = append(l.t.Secrets, secrets...)
	ds.Value, ds.Evaluated = val, true
}

// DataEvaluator resolves a data source against the cloud.
type DataEvaluator interface {
	Evaluate(ds *DataSource) (cty.Value, error)
}

// topoSort returns the keys in dependency order and any cycles found.
func topoSort(nodes map[string]*evalNode) (order []string, cycles [][]string) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(key string)
	visit = func(key string) {
		switch state[key] {
		case done:
			return
		case visiting:
			for i, k := range stack {
				if k == key {
					cycles = append(cycles, append(append([]string{}, stack[i:]...), key))
				}
			}
			return
		}
		state[key] = visiting
		stack = append(stack, key)
		for _, dep := range nodeDeps(nodes[key], nodes) {
			visit(dep)
		}
		stack = stack[:len(stack)-1]
		state[key] = done
		order = append(order, key)
	}
	for _, key := range sortedKeys(nodes) {
		visit(key)
	}
	return order, cycles
}

// nodeDeps lists the keys of the locals and data sources a node refers to.
func nodeDeps(n *evalNode, nodes map[string]*evalNode) []string {
	var deps []string
	for _, tr := range n.refs {
		key := refKey(tr)
		if _, ok := nodes[key]; ok && key != "" {
			deps = append(deps, key)
		}
	}
	return deps
}

// refKey returns "local.x" or "data.t.n" for a traversal, or "".
func refKey(tr hcl.Traversal) string {
	parts := traversalNames(tr, 3)
	switch {
	case len(parts) >= 2 && parts[0] == "local":
		return "local." + parts[1]
	case len(parts) >= 3 && parts[0] == "data":
		return "data." + parts[1] + "." + parts[2]
	}
	return ""
}

func joinCycle(cycle []string) string {
	s := ""
	for i, k := range cycle {
		if i > 0 {
			s += " -> "
		}
		s += k
	}
	return s
}

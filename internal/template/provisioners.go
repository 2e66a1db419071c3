package template

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/registry"
)

// provisionerMeta are the engine's own provisioner arguments.
var provisionerMeta = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name"}, {Name: "pause_before"}, {Name: "max_retries"}, {Name: "timeout"},
	{Name: "only"}, {Name: "except"}, {Name: "override"}, {Name: "layer"},
}}

// postProcessorMeta are the engine's own post-processor arguments.
var postProcessorMeta = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name"}, {Name: "only"}, {Name: "except"}, {Name: "keep_input_artifact"},
}}

// postProcessorMetaNamed are the engine's own arguments of a
// post-processor whose configuration has a name of its own (the parameter
// name of amazon-ssm-parameter): name is the component's then.
var postProcessorMetaNamed = &hcl.BodySchema{Attributes: postProcessorMeta.Attributes[1:]}

func (l *loader) decodeProvisioners(b *Build, blocks hcl.Blocks) {
	for _, blk := range blocks {
		switch blk.Type {
		case "provisioner":
			if p := l.decodeProvisioner(b, blk); p != nil {
				b.Provisioners = append(b.Provisioners, p)
			}
		case "error-cleanup-provisioner":
			if b.ErrorCleanup != nil {
				l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate error-cleanup-provisioner",
					Detail: "A build can have only one error-cleanup-provisioner.", Subject: blk.DefRange.Ptr()})
				continue
			}
			b.ErrorCleanup = l.decodeProvisioner(b, blk)
		}
	}
	l.checkStopsLast(b)
	l.checkConnections(b)
}

// checkStopsLast refuses a provisioner that shuts the instance down
// (sysprep) followed by another that applies to the same source: nothing
// can run on an instance that is stopping, and the builder waits for the
// stop right after it. Provisioners the strategy defers to the boot
// payload do not count: they run on the instances launched later.
func (l *loader) checkStopsLast(b *Build) {
	for _, use := range b.Sources {
		var stopper *Provisioner
		for _, p := range b.Provisioners {
			cfg, ok := p.Configs[use.UseName()]
			if !ok || !Bakes(use.EffectiveStrategy(b), p.Layer) {
				continue // a deferred provisioner runs at boot, not on this instance
			}
			if stopper != nil {
				l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError,
					Summary: fmt.Sprintf("provisioner %q must be the last provisioner", stopper.Type),
					Detail: fmt.Sprintf("It shuts the instance down, but provisioner %q (line %d) runs after it for %s. Move %q to the end of the build.",
						p.Type, p.DeclRange.Start.Line, use.UseName(), stopper.Type),
					Subject: stopper.DeclRange.Ptr()})
				return
			}
			if s, ok := cfg.(interface{ StopsInstance() bool }); ok && s.StopsInstance() {
				stopper = p
			}
		}
	}
}

func (l *loader) decodeProvisioner(b *Build, blk *hcl.Block) *Provisioner {
	typ := blk.Labels[0]
	comp, ok := registry.Lookup(registry.Provisioner, typ)
	if !ok {
		l.unknownType(blk, registry.Provisioner, typ)
		return nil
	}
	meta, rest, diags := blk.Body.PartialContent(provisionerMeta)
	l.diags = append(l.diags, diags...)
	p := &Provisioner{Type: typ, Component: comp, Configs: map[string]registry.Config{}, DeclRange: blk.DefRange}
	ctx := l.evalContext()
	l.decodeString(meta, "name", ctx, &p.Name)
	l.decodeDuration(meta, "pause_before", ctx, &p.PauseBefore)
	l.decodeDuration(meta, "timeout", ctx, &p.Timeout)
	l.decodeInt(meta, "max_retries", ctx, &p.MaxRetries)
	l.decodeString(meta, "layer", ctx, &p.Layer)
	p.Only = l.decodeUseList(b, meta, "only", ctx)
	p.Except = l.decodeUseList(b, meta, "except", ctx)
	if a, ok := meta.Attributes["layer"]; ok && p.Layer != "" && !contains(Layers, p.Layer) {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid layer",
			Detail:  fmt.Sprintf("layer = %q is not a layer; write one of %q.%s", p.Layer, Layers, suggest(p.Layer, Layers)),
			Subject: a.Expr.Range().Ptr()})
	}
	p.body = blk.Body
	overrides := l.decodeOverrides(b, meta, ctx)
	refsOK := l.checkRefsIn(bodyVariables(rest, comp.Spec), refContext{inBuild: true})
	for _, use := range b.Sources {
		if !p.AppliesTo(use.UseName()) || !refsOK {
			continue
		}
		p.Configs[use.UseName()] = l.decodeComponentWith(comp, rest, l.buildContext(b, use), overrides[use.UseName()])
		if l.diags.HasErrors() && p.Configs[use.UseName()] == nil {
			break // the same body fails the same way for every use
		}
	}
	return p
}

func (l *loader) decodePostProcessors(b *Build, blocks hcl.Blocks) {
	for _, blk := range blocks {
		switch blk.Type {
		case "post-processor":
			if pp := l.decodePostProcessor(b, blk); pp != nil {
				b.PostProcessors = append(b.PostProcessors, []*PostProcessor{pp})
			}
		case "post-processors":
			content, diags := blk.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "post-processor", LabelNames: []string{"type"}}}})
			l.diags = append(l.diags, diags...)
			var chain []*PostProcessor
			for _, pb := range content.Blocks {
				if pp := l.decodePostProcessor(b, pb); pp != nil {
					chain = append(chain, pp)
				}
			}
			if len(chain) > 0 {
				b.PostProcessors = append(b.PostProcessors, chain)
			}
		}
	}
}

func (l *loader) decodePostProcessor(b *Build, blk *hcl.Block) *PostProcessor {
	typ := blk.Labels[0]
	comp, ok := registry.Lookup(registry.PostProcessor, typ)
	if !ok {
		l.unknownType(blk, registry.PostProcessor, typ)
		return nil
	}
	schema := postProcessorMeta
	if spec, ok := comp.Spec.(hcldec.ObjectSpec); ok && spec["name"] != nil {
		schema = postProcessorMetaNamed
	}
	meta, rest, diags := blk.Body.PartialContent(schema)
	l.diags = append(l.diags, diags...)
	ctx := l.evalContext()
	pp := &PostProcessor{Type: typ, Component: comp, DeclRange: blk.DefRange}
	l.decodeString(meta, "name", ctx, &pp.Name)
	pp.Only = l.decodeUseList(b, meta, "only", ctx)
	pp.Except = l.decodeUseList(b, meta, "except", ctx)
	if a, ok := meta.Attributes["keep_input_artifact"]; ok {
		diags := gohcl.DecodeExpression(a.Expr, ctx, &pp.KeepInputArtifact)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() && !pp.KeepInputArtifact {
			// imgbuild never deletes a build's images after a
			// post-processor, so true is what always happens.
			l.diags = append(l.diags, check.NotImplementedDiag(a.Expr.Range().Ptr(), "keep_input_artifact = false",
				"imgbuild always keeps the images a build makes: remove it, or set it to true."))
		}
	}
	if l.checkRefsIn(bodyVariables(rest, comp.Spec), refContext{inBuild: true}) {
		pp.Config = l.decodeComponent(comp, rest, l.buildContext(b, b.Sources[0]))
	}
	return pp
}

func (l *loader) decodeString(c *hcl.BodyContent, name string, ctx *hcl.EvalContext, dst *string) {
	if a, ok := c.Attributes[name]; ok && l.checkRefs(a.Expr.Variables()) {
		l.diags = append(l.diags, gohcl.DecodeExpression(a.Expr, ctx, dst)...)
	}
}

func (l *loader) decodeInt(c *hcl.BodyContent, name string, ctx *hcl.EvalContext, dst *int) {
	if a, ok := c.Attributes[name]; ok && l.checkRefs(a.Expr.Variables()) {
		l.diags = append(l.diags, gohcl.DecodeExpression(a.Expr, ctx, dst)...)
		if *dst < 0 {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + name,
				Detail: name + " cannot be negative.", Subject: a.Expr.Range().Ptr()})
		}
	}
}

func (l *loader) decodeDuration(c *hcl.BodyContent, name string, ctx *hcl.EvalContext, dst *time.Duration) {
	var s string
	l.decodeString(c, name, ctx, &s)
	if s == "" {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid duration",
			Detail:  fmt.Sprintf("%s = %q is not a duration; write for example \"30s\", \"5m\" or \"1h30m\".", name, s),
			Subject: c.Attributes[name].Expr.Range().Ptr()})
		return
	}
	*dst = d
}

// decodeUseList decodes only/except and checks each names a source use of
// the build ("amazon-ebs.name").
func (l *loader) decodeUseList(b *Build, c *hcl.BodyContent, name string, ctx *hcl.EvalContext) []string {
	a, ok := c.Attributes[name]
	if !ok {
		return nil
	}
	var uses []string
	if diags := gohcl.DecodeExpression(a.Expr, ctx, &uses); diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return nil
	}
	known := make([]string, 0, len(b.Sources))
	for _, u := range b.Sources {
		known = append(known, u.UseName())
	}
	for _, u := range uses {
		if !contains(known, u) {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown source in " + name,
				Detail:  fmt.Sprintf("%q is not a source of this build.%s Sources: %v.", u, suggest(u, known), known),
				Subject: a.Expr.Range().Ptr()})
		}
	}
	return uses
}

// decodeOverrides decodes override = { "amazon-ebs.x" = { attr = value } }.
func (l *loader) decodeOverrides(b *Build, c *hcl.BodyContent, ctx *hcl.EvalContext) map[string]map[string]cty.Value {
	a, ok := c.Attributes["override"]
	if !ok {
		return nil
	}
	val, diags := a.Expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || !val.IsWhollyKnown() || val.IsNull() || !(val.Type().IsObjectType() || val.Type().IsMapType()) {
		if !diags.HasErrors() {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid override",
				Detail: "override must be a map from source names to attribute maps.", Subject: a.Expr.Range().Ptr()})
		}
		return nil
	}
	out := map[string]map[string]cty.Value{}
	for use, attrs := range val.AsValueMap() {
		if !attrs.Type().IsObjectType() && !attrs.Type().IsMapType() {
			continue
		}
		out[use] = attrs.AsValueMap()
	}
	l.decodeUseListValues(b, a, sortedKeys(out))
	return out
}

func (l *loader) decodeUseListValues(b *Build, a *hcl.Attribute, uses []string) {
	for _, u := range uses {
		found := false
		for _, s := range b.Sources {
			found = found || s.UseName() == u
		}
		if !found {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown source in override",
				Detail: fmt.Sprintf("%q is not a source of this build.", u), Subject: a.Expr.Range().Ptr()})
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package template

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

var buildSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "description"}, {Name: "sources"}, {Name: "strategy"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "source", LabelNames: []string{"reference"}},
		{Type: "provisioner", LabelNames: []string{"type"}},
		{Type: "error-cleanup-provisioner", LabelNames: []string{"type"}},
		{Type: "post-processor", LabelNames: []string{"type"}},
		{Type: "post-processors"},
		{Type: "hcp_packer_registry"},
	},
}

// hcpRegistrySchema is the body of Packer's hcp_packer_registry block,
// checked so a misspelt attribute is still reported.
var hcpRegistrySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "bucket_name"}, {Name: "description"}, {Name: "labels"},
	{Name: "bucket_labels"}, {Name: "build_labels"}, {Name: "channels"},
}}

// decodeHCPRegistry accepts hcp_packer_registry blocks with a warning:
// imgbuild publishes no metadata to HCP Packer, and the build goes on.
func (l *loader) decodeHCPRegistry(blocks hcl.Blocks) {
	seen := false
	for _, blk := range blocks {
		if blk.Type != "hcp_packer_registry" {
			continue
		}
		_, diags := blk.Body.Content(hcpRegistrySchema)
		l.diags = append(l.diags, diags...)
		if seen {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate hcp_packer_registry block",
				Detail: "A build has at most one hcp_packer_registry block.", Subject: blk.DefRange.Ptr()})
			continue
		}
		seen = true
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "HCP Packer registry not supported",
			Detail:  "imgbuild publishes no metadata to HCP Packer: this hcp_packer_registry block is ignored and the build goes on without it.",
			Subject: blk.DefRange.Ptr()})
	}
}

// decodeBuilds decodes every build block, its source uses, provisioners
// and post-processors.
func (l *loader) decodeBuilds() {
	names := map[string]hcl.Range{}
	for _, content := range l.bodies {
		for _, blk := range content.Blocks {
			if blk.Type != "build" {
				continue
			}
			b := l.decodeBuild(blk)
			if b == nil {
				continue
			}
			if prev, ok := names[b.Name]; ok && b.Name != "" {
				l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate build %q", b.Name),
					Detail: fmt.Sprintf("A build named %q was already declared at %s.", b.Name, prev.String()), Subject: b.DeclRange.Ptr()})
				continue
			}
			names[b.Name] = b.DeclRange
			l.t.Builds = append(l.t.Builds, b)
		}
	}
	if len(l.t.Builds) == 0 && !l.diags.HasErrors() {
		var subject *hcl.Range
		if files := sortedKeys(l.t.Files); len(files) > 0 {
			subject = &hcl.Range{Filename: files[0], Start: hcl.InitialPos, End: hcl.InitialPos}
		}
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No build block",
			Detail: "A template needs at least one build block listing the sources to build.", Subject: subject})
	}
}

func (l *loader) decodeBuild(blk *hcl.Block) *Build {
	content, diags := blk.Body.Content(buildSchema)
	l.diags = append(l.diags, diags...)
	b := &Build{DeclRange: blk.DefRange}
	ctx := l.evalContext()
	for _, attr := range []struct {
		name string
		dst  *string
	}{{"name", &b.Name}, {"description", &b.Description}} {
		if a, ok := content.Attributes[attr.name]; ok && l.checkRefs(a.Expr.Variables()) {
			l.diags = append(l.diags, gohcl.DecodeExpression(a.Expr, ctx, attr.dst)...)
		}
	}
	b.Strategy = l.decodeStrategy(content)
	l.decodeHCPRegistry(content.Blocks)
	if a, ok := content.Attributes["sources"]; ok {
		l.decodeSourceList(b, a)
	}
	for _, sb := range content.Blocks {
		if sb.Type == "source" {
			l.decodeSourceBlock(b, sb)
		}
	}
	if len(b.Sources) == 0 {
		if _, listed := content.Attributes["sources"]; listed || hasBlock(content.Blocks, "source") {
			return b // the bad references were reported already
		}
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Build without sources",
			Detail: "A build needs sources = [\"source.<type>.<name>\", ...] or source blocks.", Subject: blk.DefRange.Ptr()})
		return b
	}
	l.decodeProvisioners(b, content.Blocks)
	l.checkLayers(b)
	l.decodePostProcessors(b, content.Blocks)
	return b
}

// decodeSourceList handles sources = ["source.amazon-ebs.x", ...].
func (l *loader) decodeSourceList(b *Build, a *hcl.Attribute) {
	exprs, diags := hcl.ExprList(a.Expr)
	l.diags = append(l.diags, diags...)
	for _, e := range exprs {
		ref, ok := sourceRefFromExpr(e)
		if !ok {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid source reference",
				Detail: `Each entry of sources must be a string like "source.amazon-ebs.name".`, Subject: e.Range().Ptr()})
			continue
		}
		if src := l.lookupSource(ref, e.Range()); src != nil {
			l.addUse(b, &SourceUse{Source: src, Name: src.Name, DeclRange: e.Range()}, nil)
		}
	}
}

func sourceRefFromExpr(e hcl.Expression) (string, bool) {
	var s string
	if diags := gohcl.DecodeExpression(e, nil, &s); !diags.HasErrors() {
		return s, true
	}
	if tr, diags := hcl.AbsTraversalForExpr(e); !diags.HasErrors() {
		return strings.Join(traversalNames(tr, 3), "."), true
	}
	return "", false
}

// lookupSource resolves "source.type.name" or "type.name".
func (l *loader) lookupSource(ref string, rng hcl.Range) *Source {
	// "sources.type.name" is accepted too: Packer's own documentation
	// writes it so.
	key := strings.TrimPrefix(strings.TrimPrefix(ref, "sources."), "source.")
	if src, ok := l.t.Sources[key]; ok {
		return src
	}
	if l.brokenSources[key] {
		return nil
	}
	detail := fmt.Sprintf("There is no source %q in this template.%s", "source."+key, suggest(key, sortedKeys(l.t.Sources)))
	if strings.Count(key, ".") != 1 {
		detail = fmt.Sprintf("%q is not a source reference; write \"source.<type>.<name>\".", ref)
	}
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference to undeclared source",
		Detail: detail, Subject: rng.Ptr()})
	return nil
}

// decodeSourceBlock handles source "type.name" { name = "x" overrides... }.
func (l *loader) decodeSourceBlock(b *Build, sb *hcl.Block) {
	src := l.lookupSource(sb.Labels[0], sb.LabelRanges[0])
	if src == nil {
		return
	}
	use := &SourceUse{Source: src, Name: src.Name, DeclRange: sb.DefRange}
	content, over, diags := sb.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "strategy"}}})
	l.diags = append(l.diags, diags...)
	if a, ok := content.Attributes["name"]; ok {
		l.diags = append(l.diags, gohcl.DecodeExpression(a.Expr, l.evalContext(), &use.Name)...)
		if !hclsyntax.ValidIdentifier(use.Name) {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid source name",
				Detail: fmt.Sprintf("%q is not a valid name.", use.Name), Subject: a.Expr.Range().Ptr()})
			return
		}
	}
	use.Strategy = l.decodeStrategy(content)
	l.addUse(b, use, withoutStrategy(withoutName(sb.Body, over)))
}

// addUse decodes the source for this use (with overrides) and adds it.
func (l *loader) addUse(b *Build, use *SourceUse, override hcl.Body) {
	for _, u := range b.Sources {
		if u.UseName() == use.UseName() {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Duplicate source use %q", use.UseName()),
				Detail:  fmt.Sprintf("This build already uses %s (at %s); give the second use another name with a source block and name = \"...\".", use.UseName(), u.DeclRange.String()),
				Subject: use.DeclRange.Ptr()})
			return
		}
	}
	body := use.Source.Body
	if override != nil {
		body = overrideBody(body, override)
	}
	ctx := l.buildContext(b, use)
	if l.checkRefsIn(bodyVariables(body, use.Source.Component.Spec), refContext{inBuild: true}) {
		use.Config = l.decodeComponent(use.Source.Component, body, ctx)
	}
	b.Sources = append(b.Sources, use)
}

// buildContext is the evaluation context inside a build for one source
// use: it adds source.{type,name} and build.* placeholders that render
// late (Packer's build variables).
func (l *loader) buildContext(b *Build, use *SourceUse) *hcl.EvalContext {
	ctx := l.evalContext()
	vars := map[string]cty.Value{}
	for k, v := range ctx.Variables {
		vars[k] = v
	}
	vars["source"] = cty.ObjectVal(map[string]cty.Value{"type": cty.StringVal(use.Type()), "name": cty.StringVal(use.Name)})
	bv := map[string]cty.Value{"name": cty.StringVal(b.Name)}
	for _, k := range buildVariables {
		bv[k] = cty.StringVal("{{ ." + k + " }}")
	}
	vars["build"] = cty.ObjectVal(bv)
	return &hcl.EvalContext{Variables: vars, Functions: ctx.Functions}
}

// buildVariables are Packer's build.* values, known only while building.
var buildVariables = []string{
	"ID", "Host", "Port", "User", "Password", "ConnType", "PackerRunUUID", "SSHPublicKey", "SSHPrivateKey",
	"SourceAMI", "SourceAMIName", "SourceAMIOwner", "SourceAMIOwnerName", "SourceAMICreationDate", "BuildRegion",
}

func hasBlock(blocks hcl.Blocks, typ string) bool {
	for _, b := range blocks {
		if b.Type == typ {
			return true
		}
	}
	return false
}

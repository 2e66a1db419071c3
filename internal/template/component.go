package template

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/registry"
)

// decodeComponent decodes a component body against its generated spec and
// runs the component's offline checks. It returns nil when the body has
// errors (already reported) or depends on values that are not known.
func (l *loader) decodeComponent(comp registry.Component, body hcl.Body, ctx *hcl.EvalContext) registry.Config {
	return l.decodeComponentWith(comp, body, ctx, nil)
}

// decodeComponentWith is decodeComponent with attribute overrides applied
// to the decoded object before conversion (provisioner `override`).
func (l *loader) decodeComponentWith(comp registry.Component, body hcl.Body, ctx *hcl.EvalContext, override map[string]cty.Value) registry.Config {
	// dynamic "x" { for_each = ... } blocks expand into x blocks, as in
	// Packer, in every component body (sources, provisioners,
	// post-processors, data sources).
	val, diags := hcldec.Decode(dynblock.Expand(body, ctx), comp.Spec, ctx)
	l.diags = append(l.diags, l.maskDiags(diags)...)
	if val.IsNull() || !val.Type().IsObjectType() {
		return nil
	}
	if len(override) > 0 {
		var ok bool
		if val, ok = l.applyOverride(val, override, body); !ok {
			return nil
		}
	}
	fields := check.BodyFields(body)
	cfg := comp.New()
	if err := hcl2spec.Decode(val, cfg); err != nil {
		l.decodeErrors(comp, fields, err)
		return nil
	}
	// Attributes tagged sensitive (secret_key, ssh_password, ...) are
	// masked wherever their values appear, as sensitive variables are.
	l.t.Secrets = append(l.t.Secrets, registry.SensitiveValues(cfg)...)
	cc := &check.Context{Fields: fields, BaseDir: l.t.WorkDir, Unknown: map[string]bool{}}
	for _, p := range hcl2spec.UnknownPaths(val) {
		cc.Unknown[p] = true
	}
	cfg.Prepare(cc)
	l.diags = append(l.diags, l.maskDiags(cc.Diags)...)
	if diags.HasErrors() {
		// Checked for the user's benefit (all problems at once), but a
		// body with errors never yields a usable configuration.
		return nil
	}
	return cfg
}

// decodeErrors reports values that do not fit their Go field (for example
// 1.5 for an integer) at the attribute they came from.
func (l *loader) decodeErrors(comp registry.Component, fields check.Fields, err error) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var pe *hcl2spec.PathError
		rng := fields.Range()
		if errors.As(e, &pe) {
			rng = fields.Range(pe.Path...)
		}
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: fmt.Sprintf("Invalid %s configuration", comp.Type),
			Detail: e.Error(), Subject: rng.Ptr(),
		})
	}
}

// applyOverride replaces attributes of a decoded object.
func (l *loader) applyOverride(val cty.Value, override map[string]cty.Value, body hcl.Body) (cty.Value, bool) {
	attrs := val.AsValueMap()
	ty := val.Type()
	for k, v := range override {
		if !ty.HasAttribute(k) {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Unsupported override attribute",
				Detail:  fmt.Sprintf("An override sets %q, which this provisioner does not have.%s", k, suggest(k, attrNames(ty))),
				Subject: body.MissingItemRange().Ptr(),
			})
			return val, false
		}
		cv, err := convert.Convert(v, ty.AttributeType(k))
		if err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid override value",
				Detail: fmt.Sprintf("The override for %q: %s.", k, err), Subject: body.MissingItemRange().Ptr(),
			})
			return val, false
		}
		attrs[k] = cv
	}
	return cty.ObjectVal(attrs), true
}

func attrNames(ty cty.Type) []string {
	var out []string
	for k := range ty.AttributeTypes() {
		out = append(out, k)
	}
	return out
}

// maskDiags keeps sensitive values out of diagnostics: expressions that
// reference a sensitive variable or local lose their evaluation context.
func (l *loader) maskDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		if d.Expression == nil {
			continue
		}
		for _, tr := range d.Expression.Variables() {
			if l.isSensitiveRef(tr) {
				d.EvalContext, d.Expression = nil, nil
				break
			}
		}
	}
	return diags
}

func (l *loader) isSensitiveRef(tr hcl.Traversal) bool {
	names := traversalNames(tr, 2)
	if len(names) < 2 {
		return false
	}
	switch names[0] {
	case "var":
		v, ok := l.t.Variables[names[1]]
		return ok && v.Sensitive
	case "local":
		loc, ok := l.t.Locals[names[1]]
		return ok && loc.Sensitive
	}
	return false
}

package template

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}, {Name: "nullable"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

func (l *loader) declareVariable(b *hcl.Block) {
	name := b.Labels[0]
	if !l.checkName(b, "variable", name) {
		return
	}
	if prev, ok := l.t.Variables[name]; ok {
		l.duplicate(b, "variable", name, prev.DeclRange)
		return
	}
	content, diags := b.Body.Content(variableSchema)
	l.diags = append(l.diags, diags...)
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
	var defaults *typeexpr.Defaults
	if a, ok := content.Attributes["type"]; ok {
		ty, d, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		l.diags = append(l.diags, diags...)
		v.Type, defaults = ty, d
	}
	if a, ok := content.Attributes["description"]; ok {
		l.diags = append(l.diags, gohcl.DecodeExpression(a.Expr, nil, &v.Description)...)
	}
	if a, ok := content.Attributes["sensitive"]; ok {
		l.diags = append(l.diags, gohcl.DecodeExpression(a.Expr, nil, &v.Sensitive)...)
	}
	if a, ok := content.Attributes["default"]; ok {
		v.Default = l.defaultValue(a, v.Type, defaults, "default value of variable "+name)
		v.valueRange = a.Expr.Range()
	}
	for _, vb := range content.Blocks {
		vc, diags := vb.Body.Content(validationSchema)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		v.validations = append(v.validations, &validation{
			Condition: vc.Attributes["condition"].Expr, ErrorMessage: vc.Attributes["error_message"].Expr, DeclRange: vb.DefRange,
		})
	}
	v.Value = v.Default
	v.ValueFrom = "default"
	l.t.Variables[name] = v
}

// declareVariablesBlock handles Packer's legacy `variables { a = 1 }` form.
func (l *loader) declareVariablesBlock(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for _, a := range sortedAttrs(attrs) {
		if prev, ok := l.t.Variables[a.Name]; ok {
			l.duplicateAttr(a, "variable", prev.DeclRange)
			continue
		}
		v := &Variable{Name: a.Name, Type: cty.DynamicPseudoType, DeclRange: a.Range, ValueFrom: "default"}
		v.Default = l.constantValue(a, v.Type, nil, "default value of variable "+a.Name)
		v.Value, v.valueRange = v.Default, a.Expr.Range()
		l.t.Variables[a.Name] = v
	}
}

// constantValue evaluates an expression that may not refer to anything
// and converts it to ty.
func (l *loader) constantValue(a *hcl.Attribute, ty cty.Type, defaults *typeexpr.Defaults, what string) cty.Value {
	return l.evalConstant(a, nil, ty, defaults, what)
}

// defaultValue is constantValue for a variable's default, where, as in
// Packer, env("NAME") reads an environment variable ("" when unset).
func (l *loader) defaultValue(a *hcl.Attribute, ty cty.Type, defaults *typeexpr.Defaults, what string) cty.Value {
	getenv := l.opts.Getenv
	env := function.New(&function.Spec{
		Params: []function.Parameter{{Name: "name", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(getenv(args[0].AsString())), nil
		},
	})
	return l.evalConstant(a, &hcl.EvalContext{Functions: map[string]function.Function{"env": env}}, ty, defaults, what)
}

func (l *loader) evalConstant(a *hcl.Attribute, ctx *hcl.EvalContext, ty cty.Type, defaults *typeexpr.Defaults, what string) cty.Value {
	val, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Summary == "Variables not allowed" {
				d.Detail = fmt.Sprintf("The %s must be a literal value; it cannot refer to variables, locals or data sources.", what)
			}
		}
		l.diags = append(l.diags, diags...)
		return cty.DynamicVal
	}
	return l.convertValue(val, ty, defaults, a.Expr.Range(), what)
}

func (l *loader) convertValue(val cty.Value, ty cty.Type, defaults *typeexpr.Defaults, rng hcl.Range, what string) cty.Value {
	if defaults != nil {
		val = defaults.Apply(val)
	}
	out, err := convert.Convert(val, ty)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail:  fmt.Sprintf("The %s is not compatible with the variable's type constraint %s: %s.", what, typeexpr.TypeString(ty), err),
			Subject: rng.Ptr(),
		})
		return cty.UnknownVal(ty)
	}
	return out
}

// assignVariables applies values in precedence order, then checks that
// every variable has a value and passes its validation blocks.
func (l *loader) assignVariables(varFiles []hcl.Attributes) {
	l.assignFromEnv("PKR_VAR_")
	l.assignFromEnv("IMGBUILD_VAR_")
	for _, attrs := range varFiles {
		for _, a := range sortedAttrs(attrs) {
			l.assignFromFile(a)
		}
	}
	for _, kv := range l.opts.Vars {
		l.assignFromFlag(kv)
	}
	for _, name := range sortedKeys(l.t.Variables) {
		v := l.t.Variables[name]
		if v.Value == cty.NilVal {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Unset variable " + fmt.Sprintf("%q", name),
				Detail:  fmt.Sprintf("A value for variable %q is required: give it a default, or set it with -var %s=VALUE, a -var-file, or PKR_VAR_%s.", name, name, name),
				Subject: v.DeclRange.Ptr(),
			})
			v.Value = cty.UnknownVal(v.Type)
		}
		if v.Sensitive {
			l.addSecrets(v.Value)
		}
		l.validateVariable(v)
	}
}

func (l *loader) assignFromEnv(prefix string) {
	for _, kv := range l.opts.Environ() {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, prefix) {
			continue
		}
		name := strings.TrimPrefix(k, prefix)
		v, ok := l.t.Variables[name]
		if !ok {
			continue // Packer ignores undeclared environment variables too.
		}
		rng := hcl.Range{Filename: "<environment " + k + ">"}
		v.Value = l.rawValue(val, v, rng)
		v.ValueFrom, v.valueRange = "env", rng
	}
}

func (l *loader) assignFromFile(a *hcl.Attribute) {
	v, ok := l.t.Variables[a.Name]
	if !ok {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning, Summary: "Undeclared variable",
			Detail:  fmt.Sprintf("A value was set for %q, but no variable of that name is declared.%s", a.Name, suggest(a.Name, sortedKeys(l.t.Variables))),
			Subject: a.NameRange.Ptr(),
		})
		return
	}
	val, diags := a.Expr.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	v.Value = l.convertValue(val, v.Type, nil, a.Expr.Range(), "value of variable "+a.Name)
	v.ValueFrom, v.valueRange = "var-file", a.Expr.Range()
}

func (l *loader) assignFromFlag(kv string) {
	name, raw, ok := strings.Cut(kv, "=")
	rng := hcl.Range{Filename: "<-var " + name + ">"}
	if !ok || name == "" {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var option",
			Detail: fmt.Sprintf("The -var option %q is not of the form NAME=VALUE.", kv)})
		return
	}
	v, ok := l.t.Variables[name]
	if !ok {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undefined -var variable",
			Detail: fmt.Sprintf("A value was given for %q with -var, but the template declares no such variable.%s", name, suggest(name, sortedKeys(l.t.Variables)))})
		return
	}
	v.Value = l.rawValue(raw, v, rng)
	v.ValueFrom, v.valueRange = "-var", rng
}

// rawValue interprets a value given on the command line or in the
// environment: strings are taken literally, other types parse as HCL.
func (l *loader) rawValue(raw string, v *Variable, rng hcl.Range) cty.Value {
	if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		return cty.StringVal(raw)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), rng.Filename, hcl.InitialPos)
	if !diags.HasErrors() {
		var val cty.Value
		val, diags = expr.Value(nil)
		if !diags.HasErrors() {
			return l.convertValue(val, v.Type, nil, rng, "value of variable "+v.Name)
		}
	}
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
		Detail: fmt.Sprintf("The value given for %q in %s is not a valid %s.", v.Name, rng.Filename, typeexpr.TypeString(v.Type))})
	return cty.UnknownVal(v.Type)
}

// validateVariable runs the variable's validation blocks.
func (l *loader) validateVariable(v *Variable) {
	if !v.Value.IsWhollyKnown() {
		return
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: v.Value})},
		Functions: l.functions(),
	}
	for _, vb := range v.validations {
		cond, diags := vb.Condition.Value(ctx)
		l.diags = append(l.diags, l.redact(diags, v)...)
		if diags.HasErrors() {
			continue
		}
		if cond, err := convert.Convert(cond, cty.Bool); err != nil || cond.IsNull() || !cond.IsKnown() {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
				Detail: "The condition must be a boolean expression.", Subject: vb.Condition.Range().Ptr()})
			continue
		} else if cond.True() {
			continue
		}
		msg, diags := vb.ErrorMessage.Value(ctx)
		detail := "The value does not satisfy the validation rule."
		if !diags.HasErrors() && msg.Type() == cty.String && msg.IsKnown() && !msg.IsNull() {
			detail = msg.AsString()
		}
		detail += fmt.Sprintf("\n\nThis was checked by the validation rule at %s.", vb.DeclRange.String())
		subject := v.valueRange
		if subject.Filename == "" || strings.HasPrefix(subject.Filename, "<") {
			subject = v.DeclRange
		}
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError,
			Summary: fmt.Sprintf("Invalid value for variable %q", v.Name), Detail: detail, Subject: subject.Ptr()})
	}
}

// redact drops evaluation details from diagnostics about a sensitive
// variable so the renderer cannot print its value.
func (l *loader) redact(diags hcl.Diagnostics, v *Variable) hcl.Diagnostics {
	if !v.Sensitive {
		return diags
	}
	for _, d := range diags {
		d.EvalContext, d.Expression = nil, nil
	}
	return diags
}

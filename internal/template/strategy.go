package template

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The image strategies of a build (strategy = "..."). Without one every
// provisioner is baked, as in Packer.
const (
	StrategyFull   = "full"    // bake every layer
	StrategyHybrid = "hybrid"  // bake os and prereqs; app goes to the boot payload
	StrategyOSOnly = "os-only" // bake os; prereqs and app go to the boot payload
)

// The provisioner layers (layer = "..."), from the bottom up.
const (
	LayerOS      = "os"
	LayerPrereqs = "prereqs"
	LayerApp     = "app"
)

// Strategies and Layers list the accepted values, for messages.
var (
	Strategies = []string{StrategyFull, StrategyHybrid, StrategyOSOnly}
	Layers     = []string{LayerOS, LayerPrereqs, LayerApp}
)

// EffectiveStrategy returns the strategy of this use of build b: its own
// strategy attribute, else the build's ("" when neither sets one).
func (u *SourceUse) EffectiveStrategy(b *Build) string {
	if u.Strategy != "" {
		return u.Strategy
	}
	return b.Strategy
}

// Bakes reports whether a build with the given strategy bakes a
// provisioner of the given layer into the image; the others are deferred
// to the boot payload.
func Bakes(strategy, layer string) bool {
	switch strategy {
	case StrategyHybrid:
		return layer == LayerOS || layer == LayerPrereqs
	case StrategyOSOnly:
		return layer == LayerOS
	default:
		return true
	}
}

// layered reports whether a strategy needs every provisioner to name its
// layer.
func layered(strategy string) bool { return strategy == StrategyHybrid || strategy == StrategyOSOnly }

// Windows reports whether the use's instance is Windows: its source
// connects with communicator "winrm". Such a build's boot payload is
// <powershell> user data; any other's is a shell script for cloud-init.
func (u *SourceUse) Windows() bool { return communicatorOf(u.Config) == "winrm" }

// communicatorOf finds the communicator attribute of a builder
// configuration (a string field tagged hcl:"communicator", possibly in an
// embedded struct); "" when it has none.
func communicatorOf(cfg any) string { return stringField(cfg, "communicator") }

// stringField finds the string field tagged hcl:"<name>" of a component
// configuration, possibly in an embedded struct; "" when it has none.
func stringField(cfg any, name string) string {
	v := reflect.ValueOf(cfg)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Tag.Get("hcl") == name && f.Type.Kind() == reflect.String {
			return v.Field(i).String()
		}
		if f.Anonymous && f.IsExported() {
			if s := stringField(v.Field(i).Addr().Interface(), name); s != "" {
				return s
			}
		}
	}
	return ""
}

// decodeStrategy decodes and checks a strategy attribute of a build or of
// a build's source block.
func (l *loader) decodeStrategy(c *hcl.BodyContent) string {
	a, ok := c.Attributes["strategy"]
	if !ok || !l.checkRefs(a.Expr.Variables()) {
		return ""
	}
	var s string
	if diags := gohcl.DecodeExpression(a.Expr, l.evalContext(), &s); diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return ""
	}
	if !contains(Strategies, s) {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid strategy",
			Detail:  fmt.Sprintf("strategy = %q is not a strategy; write one of %q.%s", s, Strategies, suggest(s, Strategies)),
			Subject: a.Expr.Range().Ptr()})
		return ""
	}
	return s
}

// withoutStrategy drops the strategy attribute from a build's source
// block override body, which withoutName copied: it is the engine's, not
// the builder's.
func withoutStrategy(body hcl.Body) hcl.Body {
	if sb, ok := body.(*hclsyntax.Body); ok {
		delete(sb.Attributes, "strategy")
	}
	return body
}

// checkLayers checks the provisioners of b against the strategy of each
// source use: with hybrid or os-only each must name its layer, and each
// deferred one must be one the boot payload can carry. Each problem is
// reported once per provisioner block, all at once.
func (l *loader) checkLayers(b *Build) {
	for _, p := range b.Provisioners {
		if p.Layer != "" && !contains(Layers, p.Layer) {
			continue // reported at the attribute
		}
		for _, use := range b.Sources {
			if _, ok := p.Configs[use.UseName()]; !ok {
				continue
			}
			strategy := use.EffectiveStrategy(b)
			if layered(strategy) && p.Layer == "" {
				l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Provisioner without a layer",
					Detail: fmt.Sprintf("With strategy %q every provisioner names the layer it belongs to (%s uses this build with it): add layer = \"os\", \"prereqs\" or \"app\".",
						strategy, use.UseName()),
					Subject: p.DeclRange.Ptr()})
				continue
			}
			if !Bakes(strategy, p.Layer) {
				l.checkDeferrable(p, use, strategy)
			}
		}
	}
}

// deferrable lists, per provisioner type, the attributes a boot payload
// honours (the engine's name, only, except, override, layer and
// pause_before besides). Any other attribute set on a deferred
// provisioner is refused rather than ignored.
var deferrable = map[string][]string{
	"shell":      {"inline", "script", "scripts", "environment_vars", "env", "inline_shebang", "valid_exit_codes", "binary", "skip_clean", "use_env_var_file", "pause_after"},
	"powershell": {"inline", "script", "scripts", "environment_vars", "env", "valid_exit_codes", "use_pwsh", "execution_policy", "pause_after"},
	"file":       {"content", "source", "sources", "destination", "direction"},
}

var metaDeferrable = []string{"name", "only", "except", "override", "layer", "pause_before"}

// checkDeferrable reports what keeps p out of the boot payload of use.
func (l *loader) checkDeferrable(p *Provisioner, use *SourceUse, strategy string) {
	where := fmt.Sprintf("With strategy %q, layer %q is not baked into the image of %s but runs from its boot payload at first boot", strategy, p.Layer, use.UseName())
	refuse := func(rng hcl.Range, summary, why string) {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
			Detail: where + "; " + why, Subject: rng.Ptr()})
	}
	windows := use.Windows()
	switch {
	case p.Type == "windows-restart" || p.Type == "sysprep":
		refuse(p.DeclRange, fmt.Sprintf("provisioner %q cannot be deferred", p.Type), "it acts on the build's instance and cannot run from user data. Put it in a baked layer.")
		return
	case p.Type == "shell-local":
		refuse(p.DeclRange, `provisioner "shell-local" cannot be deferred`, "it runs on the machine that builds, not on the instance. Put it in a baked layer.")
		return
	case p.Type == "powershell" && !windows:
		refuse(p.DeclRange, `provisioner "powershell" cannot be deferred on Linux`, "that payload is a shell script for cloud-init. Use a shell provisioner, or put it in a baked layer.")
		return
	case p.Type == "shell" && windows:
		refuse(p.DeclRange, `provisioner "shell" cannot be deferred on Windows`, "that payload is <powershell> user data. Use a powershell provisioner, or put it in a baked layer.")
		return
	case deferrable[p.Type] == nil:
		refuse(p.DeclRange, fmt.Sprintf("provisioner %q cannot be deferred", p.Type),
			"a boot payload can carry only shell (Linux), powershell (Windows) and file provisioners. Put it in a baked layer.")
		return
	}
	attrs, _ := p.body.JustAttributes()
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		switch {
		case name == "direction" && directionIsDownload(a, l):
			refuse(a.Expr.Range(), "A download cannot be deferred", "a payload cannot copy files back to the machine that builds. Put it in a baked layer.")
		case !contains(deferrable[p.Type], name) && !contains(metaDeferrable, name):
			refuse(a.NameRange, fmt.Sprintf("%s cannot be deferred", name),
				fmt.Sprintf("the boot payload cannot honour %s (deferred %s provisioners honour %s): remove it, or put the provisioner in a baked layer.",
					name, p.Type, strings.Join(deferrable[p.Type], ", ")))
		}
		if name == "override" {
			l.checkDeferredOverride(p, use, a, refuse)
		}
		for _, tr := range a.Expr.Variables() {
			if names := traversalNames(tr, 2); len(names) == 2 && names[0] == "build" && names[1] != "name" {
				refuse(tr.SourceRange(), "Build value in a deferred provisioner",
					fmt.Sprintf("%s refers to build.%s, known only while the image is built. Remove the reference, or put the provisioner in a baked layer.", name, names[1]))
			}
		}
	}
}

func directionIsDownload(a *hcl.Attribute, l *loader) bool {
	var s string
	if diags := gohcl.DecodeExpression(a.Expr, l.evalContext(), &s); diags.HasErrors() {
		return false
	}
	return s == "download"
}

// checkDeferredOverride refuses attributes an override sets for use that
// the boot payload cannot honour.
func (l *loader) checkDeferredOverride(p *Provisioner, use *SourceUse, a *hcl.Attribute, refuse func(hcl.Range, string, string)) {
	val, diags := a.Expr.Value(l.evalContext())
	if diags.HasErrors() || !val.IsWhollyKnown() || val.IsNull() || !(val.Type().IsObjectType() || val.Type().IsMapType()) {
		return // reported when the override was decoded
	}
	attrs, ok := val.AsValueMap()[use.UseName()]
	if !ok || attrs.IsNull() || !(attrs.Type().IsObjectType() || attrs.Type().IsMapType()) {
		return
	}
	for _, name := range sortedKeys(attrs.AsValueMap()) {
		if !contains(deferrable[p.Type], name) {
			refuse(a.Expr.Range(), fmt.Sprintf("%s cannot be deferred", name),
				fmt.Sprintf("the override for %s sets %s, which the boot payload cannot honour (deferred %s provisioners honour %s): remove it, or put the provisioner in a baked layer.",
					use.UseName(), name, p.Type, strings.Join(deferrable[p.Type], ", ")))
		}
	}
}

package template

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/registry"
)

// suggest returns " Did you mean "x"?" for the closest candidate, or "".
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func (l *loader) checkName(b *hcl.Block, what, name string) bool {
	if hclsyntax.ValidIdentifier(name) {
		return true
	}
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: "Invalid " + what + " name",
		Detail:  fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name),
		Subject: b.LabelRanges[0].Ptr(),
	})
	return false
}

func (l *loader) duplicate(b *hcl.Block, what, name string, prev hcl.Range) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: "Duplicate " + what + " " + fmt.Sprintf("%q", name),
		Detail:  fmt.Sprintf("A %s named %q was already declared at %s. Names must be unique.", what, name, prev.String()),
		Subject: b.DefRange.Ptr(),
	})
}

func (l *loader) duplicateAttr(a *hcl.Attribute, what string, prev hcl.Range) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: "Duplicate " + what + " " + fmt.Sprintf("%q", a.Name),
		Detail:  fmt.Sprintf("A %s named %q was already declared at %s. Names must be unique.", what, a.Name, prev.String()),
		Subject: a.NameRange.Ptr(),
	})
}

func (l *loader) unknownType(b *hcl.Block, kind registry.Kind, typ string) {
	rng := b.LabelRanges[0]
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: fmt.Sprintf("Unknown %s type %q", kind, typ),
		Detail:  fmt.Sprintf("imgbuild has no %s of type %q.%s Known types: %v.", kind, typ, suggest(typ, registry.Types(kind)), registry.Types(kind)),
		Subject: &rng,
	})
}

// addSecrets records every string inside a sensitive value for masking.
func (l *loader) addSecrets(v cty.Value) {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() {
		return
	}
	switch {
	case v.Type() == cty.String:
		l.t.Secrets = append(l.t.Secrets, v.AsString())
	case v.Type().IsPrimitiveType():
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			l.addSecrets(ev)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortedAttrs returns attributes in source order.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := out[i].Range, out[j].Range
		if ri.Filename != rj.Filename {
			return ri.Filename < rj.Filename
		}
		return ri.Start.Byte < rj.Start.Byte
	})
	return out
}

// absDir returns dir made absolute: path.root. imgbuild resolves relative
// paths against the template's directory, so "${path.root}/x" must not
// be relative to it a second time.
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

func cwd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

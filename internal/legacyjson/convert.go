package legacyjson

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// converter turns a parsed legacy template into HCL lines.
type converter struct {
	filename string
	root     *node
	diags    hcl.Diagnostics
	opts     Options

	// locals are the variables whose default uses template functions: HCL
	// variables cannot, so they become locals, as in Packer's hcl2_upgrade.
	locals    map[string]bool
	sensitive map[string]bool
	// userRefs are the variables {{user}} names, with the first place.
	userRefs  map[string]hcl.Range
	timestamp bool
	// sourceNames maps a builder's legacy name to its HCL use name
	// (type.name), for only, except and override.
	sourceNames map[string]string
	// current is the builder being converted.
	current *builder
}

func (c *converter) errorf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

func (c *converter) warnf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

func (c *converter) useVar(name string, rng hcl.Range) {
	if _, ok := c.userRefs[name]; !ok {
		c.userRefs[name] = rng
	}
}

// rootKeys are the keys of a legacy template, as Packer reads them.
var rootKeys = map[string]bool{
	"variables": true, "sensitive-variables": true, "builders": true, "provisioners": true,
	"post-processors": true, "error-cleanup-provisioner": true, "min_packer_version": true, "description": true,
}

func (c *converter) convert() section {
	for _, m := range c.root.members {
		switch {
		case rootKeys[m.key]:
		case strings.HasPrefix(m.key, "_"): // a comment, as in Packer
		case m.key == "push":
			c.errorf(m.keyRange, "Unsupported root level key", "push (Atlas) was removed from Packer and is not supported.")
		default:
			c.errorf(m.keyRange, "Unknown root level key", "%q is not a key of a legacy JSON template; the keys are %s.", m.key, strings.Join(sortedKeys(rootKeys), ", "))
		}
	}
	c.classifyVariables()
	blds := c.builders()
	sources := c.sources(blds)
	build := c.build(blds)
	locals := c.localsSection()
	vars := c.variables()
	var out section
	for _, s := range []section{c.packerBlock(), vars, locals, sources, build} {
		if len(s) == 0 {
			continue
		}
		if len(out) > 0 {
			out.blank()
		}
		out = append(out, s...)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// member returns the root member key, if it has the wanted kind.
func (c *converter) member(key string, want kind) *member {
	m := c.root.get(key)
	if m == nil {
		return nil
	}
	if m.value.kind != want {
		c.errorf(m.value.rng, "Invalid "+key, "%s must be %s, not %s.", key, want, m.value.kind)
		return nil
	}
	return m
}

func (c *converter) packerBlock() section {
	var s section
	mv := c.member("min_packer_version", kindString)
	var amazon bool
	if b := c.root.get("builders"); b != nil {
		for _, e := range b.value.elems {
			if t := e.get("type"); t != nil && strings.HasPrefix(t.value.str, "amazon") {
				amazon = true
			}
		}
	}
	if mv != nil && !c.opts.Upgrade {
		c.warnf(mv.keyRange, "min_packer_version not used",
			"imgbuild has its components built in and checks no Packer version (it follows Packer %s).", interpolate.PackerVersion)
		return nil
	}
	if mv == nil && !(c.opts.Upgrade && amazon) {
		return nil
	}
	o := origin{}
	if mv != nil {
		o = pairOrigin(*mv)
	}
	s.add(0, "packer {", o)
	if mv != nil {
		s.attr(1, "required_version", section{{text: quote(">= " + mv.value.str)}}, pairOrigin(*mv))
	}
	if c.opts.Upgrade && amazon {
		s.add(1, "required_plugins {", o)
		s.add(2, "amazon = {", o)
		s.add(3, `source  = "github.com/hashicorp/amazon"`, o)
		s.add(3, `version = "~> 1"`, o)
		s.add(2, "}", o)
		s.add(1, "}", o)
	}
	s.add(0, "}", o)
	return s
}

// classifyVariables finds the variables that must become locals and the
// sensitive ones.
func (c *converter) classifyVariables() {
	if sv := c.member("sensitive-variables", kindArray); sv != nil {
		vars := c.root.get("variables")
		for _, e := range sv.value.elems {
			if e.kind != kindString {
				c.errorf(e.rng, "Invalid sensitive-variables", "sensitive-variables must list variable names, not %s.", e.kind)
				continue
			}
			if vars == nil || vars.value.get(e.str) == nil {
				c.warnf(e.rng, "Unknown sensitive variable", "%q is not declared in variables; nothing is marked sensitive for it.", e.str)
			}
			c.sensitive[e.str] = true
		}
	}
	vars := c.member("variables", kindObject)
	if vars == nil {
		return
	}
	for _, m := range vars.value.members {
		if m.value.kind == kindString && usesFunctionsBesidesEnv(m.value.str) {
			c.locals[m.key] = true
		}
	}
}

// usesFunctionsBesidesEnv reports whether s has a placeholder other than
// {{env}}: such a variable's default needs a local in HCL.
func usesFunctionsBesidesEnv(s string) bool {
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return false
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return false
		}
		if f := strings.Fields(rest[i+2 : i+j]); len(f) == 0 || f[0] != "env" {
			return true
		}
		rest = rest[i+j+2:]
	}
}

// variables writes a variable block for each variable that stays one and
// for each {{user}} reference to an undeclared variable (one a var file
// gives), as Packer's hcl2_upgrade does.
func (c *converter) variables() section {
	var s section
	vars := c.root.get("variables")
	declared := map[string]member{}
	if vars != nil && vars.value.kind == kindObject {
		for _, m := range vars.value.members {
			declared[m.key] = m
		}
	}
	names := map[string]bool{}
	for n := range declared {
		names[n] = true
	}
	for n := range c.userRefs {
		names[n] = true
	}
	for _, name := range sortedKeys(names) {
		if c.locals[name] {
			continue
		}
		if !hclsyntax.ValidIdentifier(name) {
			rng := c.userRefs[name]
			if m, ok := declared[name]; ok {
				rng = m.keyRange
			}
			c.errorf(rng, "Invalid variable name", "%q cannot be an HCL variable name: use letters, digits, underscores and dashes, starting with a letter.", name)
			continue
		}
		if len(s) > 0 {
			s.blank()
		}
		m, ok := declared[name]
		if !ok {
			o := origin{value: c.userRefs[name]}
			s.add(0, fmt.Sprintf("variable %q {", name), o)
			s.add(1, "type = string", o)
			s.add(0, "}", o)
			continue
		}
		o := pairOrigin(m)
		s.add(0, fmt.Sprintf("variable %q {", name), origin{key: m.keyRange, value: m.value.rng, valueCol: 1 << 30})
		s.add(1, "type = string", o)
		switch m.value.kind {
		case kindNull: // required
		case kindString:
			s.attr(1, "default", section{{text: c.convertString(m.value.str, m.value.rng, inVariable)}}, o)
		default:
			c.errorf(m.value.rng, "Invalid variable default", "A legacy template variable's default must be a string or null, not %s.", m.value.kind)
		}
		if c.sensitive[name] {
			s.add(1, "sensitive = true", o)
		}
		s.add(0, "}", o)
	}
	return s
}

// localsSection writes the timestamp local and the variables that became
// locals.
func (c *converter) localsSection() section {
	var s section
	vars := c.root.get("variables")
	var plain, secret []member
	if vars != nil && vars.value.kind == kindObject {
		for _, m := range vars.value.members {
			if c.locals[m.key] && c.sensitive[m.key] {
				secret = append(secret, m)
			} else if c.locals[m.key] {
				plain = append(plain, m)
			}
		}
	}
	sort.Slice(plain, func(i, j int) bool { return plain[i].key < plain[j].key })
	sort.Slice(secret, func(i, j int) bool { return secret[i].key < secret[j].key })
	// Converting the locals may find {{timestamp}}: convert them first.
	var body, secrets section
	for _, m := range plain {
		body.attr(1, m.key, section{{text: c.convertString(m.value.str, m.value.rng, inVariable)}}, pairOrigin(m))
	}
	for _, m := range secret {
		secrets.blank()
		o := pairOrigin(m)
		secrets.add(0, fmt.Sprintf("local %q {", m.key), o)
		secrets.add(1, "sensitive = true", o)
		secrets.attr(1, "expression", section{{text: c.convertString(m.value.str, m.value.rng, inVariable)}}, o)
		secrets.add(0, "}", o)
	}
	if c.timestamp {
		o := origin{value: c.root.rng}
		s.add(0, `locals { timestamp = regex_replace(timestamp(), "[- TZ:]", "") }`, o)
	}
	if len(body) > 0 {
		if len(s) > 0 {
			s.blank()
		}
		s.add(0, "locals {", pairOrigin(*vars))
		s = append(s, body...)
		s.add(0, "}", pairOrigin(*vars))
	}
	if len(s) == 0 && len(secrets) > 0 {
		secrets = secrets[1:]
	}
	return append(s, secrets...)
}

// objectSpec returns the attribute and block specs of a component spec.
func objectSpec(spec hcldec.Spec) hcldec.ObjectSpec {
	if o, ok := spec.(hcldec.ObjectSpec); ok {
		return o
	}
	if o, ok := spec.(*hcldec.ObjectSpec); ok && o != nil {
		return *o
	}
	return nil
}

package legacyjson

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hcldec"

	"github.com/imgbuild/imgbuild/internal/registry"
)

// build writes the build block: the sources of every builder, then the
// provisioners and post-processors.
func (c *converter) build(blds []builder) section {
	if len(blds) == 0 {
		return nil
	}
	var s section
	bm := c.root.get("builders")
	s.add(0, "build {", origin{key: bm.keyRange, value: bm.value.rng, valueCol: 1 << 30})
	if d := c.member("description", kindString); d != nil {
		s.attr(1, "description", section{{text: c.convertString(d.value.str, d.value.rng, inLiteral)}}, pairOrigin(*d))
		s.blank()
	}
	var names []string
	for _, b := range blds {
		names = append(names, quote("source."+b.typ+"."+b.name))
	}
	s.attr(1, "sources", section{{text: "[" + strings.Join(names, ", ") + "]"}}, pairOrigin(*bm))
	if pm := c.member("provisioners", kindArray); pm != nil {
		for _, e := range pm.value.elems {
			s.blank()
			c.component(&s, "provisioner", registry.Provisioner, e)
		}
	}
	if cm := c.member("error-cleanup-provisioner", kindObject); cm != nil {
		s.blank()
		c.component(&s, "error-cleanup-provisioner", registry.Provisioner, cm.value)
	}
	if pm := c.member("post-processors", kindArray); pm != nil {
		for _, e := range pm.value.elems {
			s.blank()
			c.postProcessors(&s, e)
		}
	}
	s.add(0, "}", valueOrigin(bm.value))
	return s
}

// postProcessors writes one entry of post-processors: a type name, an
// object, or an array of those (a sequence, each post-processor taking
// the previous one's artifact).
func (c *converter) postProcessors(s *section, e *node) {
	if e.kind != kindArray {
		c.postProcessor(s, 1, e)
		return
	}
	if len(e.elems) == 1 {
		c.postProcessor(s, 1, e.elems[0])
		return
	}
	s.add(1, "post-processors {", valueOrigin(e))
	for _, pp := range e.elems {
		if pp.kind == kindArray {
			c.errorf(pp.rng, "Invalid post-processor", "A sequence of post-processors cannot hold another sequence.")
			continue
		}
		c.postProcessor(s, 2, pp)
	}
	s.add(1, "}", valueOrigin(e))
}

func (c *converter) postProcessor(s *section, indent int, pp *node) {
	switch pp.kind {
	case kindString:
		s.add(indent, fmt.Sprintf("post-processor %q {}", pp.str), origin{value: pp.rng})
	case kindObject:
		c.componentAt(s, indent, "post-processor", registry.PostProcessor, pp)
	default:
		c.errorf(pp.rng, "Invalid post-processor", "A post-processor must be a type name, an object or an array of those, not %s.", pp.kind)
	}
}

func (c *converter) component(s *section, block string, kind registry.Kind, obj *node) {
	c.componentAt(s, 1, block, kind, obj)
}

// componentAt writes a provisioner or post-processor block.
func (c *converter) componentAt(s *section, indent int, block string, kind registry.Kind, obj *node) {
	if obj.kind != kindObject {
		c.errorf(obj.rng, "Invalid "+block, "A %s must be an object, not %s.", block, obj.kind)
		return
	}
	t := obj.get("type")
	if t == nil || t.value.kind != kindString || t.value.str == "" {
		c.errorf(obj.rng, "Missing type", "Each %s needs a \"type\", such as %q.", block, map[registry.Kind]string{registry.Provisioner: "shell", registry.PostProcessor: "manifest"}[kind])
		return
	}
	head := block + " "
	s.add(indent, fmt.Sprintf("%s%q {", head, t.value.str), origin{key: obj.rng, value: t.value.rng, valueCol: len(head)})
	var spec hcldec.ObjectSpec
	if comp, ok := registry.Lookup(kind, t.value.str); ok {
		spec = objectSpec(comp.Spec)
	}
	for _, key := range []string{"only", "except"} {
		if m := obj.get(key); m != nil && m.value.kind == kindArray {
			s.attr(indent+1, key, c.sourceList(m.value), pairOrigin(*m))
		}
	}
	if m := obj.get("override"); m != nil && m.value.kind == kindObject {
		s.attr(indent+1, "override", c.overrides(m.value), pairOrigin(*m))
	}
	c.body(s, indent+1, obj, spec, inBuild, func(k string) bool {
		switch k {
		case "type":
			return true
		case "only", "except":
			return obj.get(k).value.kind == kindArray
		case "override":
			return obj.get(k).value.kind == kindObject
		case "name": // a post-processor's name defaults to its type
			return kind == registry.PostProcessor && obj.get(k).value.str == t.value.str
		}
		return false
	})
	s.add(indent, "}", valueOrigin(obj))
}

// sourceList maps builder names in only or except to source names.
func (c *converter) sourceList(n *node) section {
	var parts []string
	for _, e := range n.elems {
		if e.kind == kindString {
			if use, ok := c.sourceNames[e.str]; ok {
				parts = append(parts, quote(use))
				continue
			}
		}
		parts = append(parts, c.inline(e, inBuild))
	}
	return section{{text: "[" + strings.Join(parts, ", ") + "]", o: valueOrigin(n)}}
}

// overrides maps the builder names keying override to source names.
func (c *converter) overrides(n *node) section {
	s := section{{text: "{", o: valueOrigin(n)}}
	for _, m := range n.members {
		key := m.key
		if use, ok := c.sourceNames[key]; ok {
			key = use
		}
		s.attr(1, quote(key), c.value(m.value, inBuild), pairOrigin(m))
	}
	s.add(0, "}", valueOrigin(n))
	return s
}

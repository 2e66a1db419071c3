package legacyjson

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// origin is where in the JSON a generated line comes from: key is the
// JSON key (or what names the line), value the JSON value. A diagnostic
// starting at or after byte valueCol of the line's text (after the
// indentation) points at value, before it at key.
type origin struct {
	key, value hcl.Range
	valueCol   int
}

func (o origin) valid() bool { return o.key.Filename != "" || o.value.Filename != "" }

// at picks the JSON range for a column (0-based byte offset) of the line.
func (o origin) at(col int) hcl.Range {
	switch {
	case o.key.Filename == "":
		return o.value
	case o.value.Filename == "" || col < o.valueCol:
		return o.key
	}
	return o.value
}

func pairOrigin(m member) origin { return origin{key: m.keyRange, value: m.value.rng} }
func valueOrigin(n *node) origin { return origin{value: n.rng} }

// line is one generated line.
type line struct {
	indent int
	text   string
	o      origin
}

// section is generated text, line by line.
type section []line

func (s *section) add(indent int, text string, o origin) {
	*s = append(*s, line{indent: indent, text: text, o: o})
}

func (s *section) blank() { *s = append(*s, line{}) }

// attr adds "name = value": the value's first line joins the name's.
func (s *section) attr(indent int, name string, value section, o origin) {
	head := name + " = "
	o.valueCol = len(head)
	s.add(indent, head+value[0].text, o)
	for _, l := range value[1:] {
		l.indent += indent
		*s = append(*s, l)
	}
}

func (s section) text() []byte {
	var b strings.Builder
	for _, l := range s {
		if l.text != "" {
			b.WriteString(strings.Repeat("  ", l.indent))
			b.WriteString(l.text)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

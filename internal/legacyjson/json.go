package legacyjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// kind is the JSON type of a node.
type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// node is one JSON value with its source range.
type node struct {
	kind    kind
	str     string // string value, or the literal text of a number or bool
	elems   []*node
	members []member
	rng     hcl.Range
}

// member is one key of an object, in source order.
type member struct {
	key      string
	keyRange hcl.Range
	value    *node
}

// get returns the member named key, or nil.
func (n *node) get(key string) *member {
	for i := range n.members {
		if n.members[i].key == key {
			return &n.members[i]
		}
	}
	return nil
}

// jsonParser is a small recursive-descent JSON parser that keeps the range
// of every value and key, which encoding/json does not give.
type jsonParser struct {
	src      []byte
	filename string
	pos      hcl.Pos
}

// parseJSON parses src. Duplicate keys are errors, as in Packer.
func parseJSON(src []byte, filename string) (*node, hcl.Diagnostics) {
	p := &jsonParser{src: src, filename: filename, pos: hcl.InitialPos}
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) { // a byte order mark
		p.pos.Byte = 3
	}
	p.skipSpace()
	n, err := p.value()
	if err == nil {
		p.skipSpace()
		if p.pos.Byte < len(p.src) {
			err = p.errorf("unexpected %q after the top-level value", p.peekRune())
		}
	}
	if err != nil {
		return nil, hcl.Diagnostics{err}
	}
	if diags := checkDuplicates(n); diags.HasErrors() {
		return nil, diags
	}
	return n, nil
}

func checkDuplicates(n *node) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]hcl.Range{}
	for _, m := range n.members {
		if prev, ok := seen[m.key]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate key",
				Detail:  fmt.Sprintf("The key %q was already given at line %d.", m.key, prev.Start.Line),
				Subject: m.keyRange.Ptr()})
		}
		seen[m.key] = m.keyRange
		diags = append(diags, checkDuplicates(m.value)...)
	}
	for _, e := range n.elems {
		diags = append(diags, checkDuplicates(e)...)
	}
	return diags
}

func (p *jsonParser) peekRune() rune {
	r, _ := utf8.DecodeRune(p.src[p.pos.Byte:])
	return r
}

// advance moves past n bytes on the current line.
func (p *jsonParser) advance(n int) {
	for i := 0; i < n && p.pos.Byte < len(p.src); {
		r, size := utf8.DecodeRune(p.src[p.pos.Byte:])
		p.pos.Byte += size
		i += size
		if r == '\n' {
			p.pos.Line++
			p.pos.Column = 1
		} else {
			p.pos.Column++
		}
	}
}

func (p *jsonParser) skipSpace() {
	for p.pos.Byte < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos.Byte]) >= 0 {
		p.advance(1)
	}
}

func (p *jsonParser) errorf(format string, args ...any) *hcl.Diagnostic {
	end := p.pos
	if end.Byte < len(p.src) {
		end.Byte++
		end.Column++
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid JSON",
		Detail:  fmt.Sprintf(format, args...) + ".",
		Subject: &hcl.Range{Filename: p.filename, Start: p.pos, End: end}}
}

func (p *jsonParser) value() (*node, *hcl.Diagnostic) {
	if p.pos.Byte >= len(p.src) {
		return nil, p.errorf("unexpected end of file")
	}
	start := p.pos
	var n *node
	var err *hcl.Diagnostic
	switch c := p.src[p.pos.Byte]; {
	case c == '{':
		n, err = p.object()
	case c == '[':
		n, err = p.array()
	case c == '"':
		var s string
		s, err = p.string()
		n = &node{kind: kindString, str: s}
	case c == '-' || (c >= '0' && c <= '9'):
		n, err = p.number()
	default:
		for _, lit := range []struct {
			text string
			kind kind
		}{{"true", kindBool}, {"false", kindBool}, {"null", kindNull}} {
			if strings.HasPrefix(string(p.src[p.pos.Byte:]), lit.text) {
				p.advance(len(lit.text))
				n = &node{kind: lit.kind, str: lit.text}
			}
		}
		if n == nil {
			return nil, p.errorf("unexpected %q where a value was expected", p.peekRune())
		}
	}
	if err != nil {
		return nil, err
	}
	n.rng = hcl.Range{Filename: p.filename, Start: start, End: p.pos}
	return n, nil
}

func (p *jsonParser) object() (*node, *hcl.Diagnostic) {
	n := &node{kind: kindObject}
	p.advance(1)
	p.skipSpace()
	if p.pos.Byte < len(p.src) && p.src[p.pos.Byte] == '}' {
		p.advance(1)
		return n, nil
	}
	for {
		p.skipSpace()
		if p.pos.Byte >= len(p.src) || p.src[p.pos.Byte] != '"' {
			return nil, p.errorf("expected a quoted key")
		}
		kstart := p.pos
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		krange := hcl.Range{Filename: p.filename, Start: kstart, End: p.pos}
		p.skipSpace()
		if p.pos.Byte >= len(p.src) || p.src[p.pos.Byte] != ':' {
			return nil, p.errorf("expected ':' after the key %q", key)
		}
		p.advance(1)
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.members = append(n.members, member{key: key, keyRange: krange, value: v})
		if done, err := p.separator('}'); err != nil || done {
			return n, err
		}
	}
}

func (p *jsonParser) array() (*node, *hcl.Diagnostic) {
	n := &node{kind: kindArray}
	p.advance(1)
	p.skipSpace()
	if p.pos.Byte < len(p.src) && p.src[p.pos.Byte] == ']' {
		p.advance(1)
		return n, nil
	}
	for {
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
		if done, err := p.separator(']'); err != nil || done {
			return n, err
		}
	}
}

// separator reads ',' (more to come) or the closing byte (done).
func (p *jsonParser) separator(closing byte) (done bool, err *hcl.Diagnostic) {
	p.skipSpace()
	if p.pos.Byte >= len(p.src) {
		return false, p.errorf("unexpected end of file, expected ',' or '%c'", closing)
	}
	switch p.src[p.pos.Byte] {
	case ',':
		p.advance(1)
		return false, nil
	case closing:
		p.advance(1)
		return true, nil
	}
	return false, p.errorf("unexpected %q, expected ',' or '%c'", p.peekRune(), closing)
}

func (p *jsonParser) string() (string, *hcl.Diagnostic) {
	start := p.pos.Byte
	i := start + 1
	for i < len(p.src) && p.src[i] != '"' {
		if p.src[i] == '\\' {
			i++
		}
		if i < len(p.src) && p.src[i] == '\n' {
			return "", p.errorf("unterminated string")
		}
		i++
	}
	if i >= len(p.src) {
		return "", p.errorf("unterminated string")
	}
	var s string
	if err := json.Unmarshal(p.src[start:i+1], &s); err != nil {
		return "", p.errorf("invalid string: %v", err)
	}
	p.advance(i + 1 - start)
	return s, nil
}

func (p *jsonParser) number() (*node, *hcl.Diagnostic) {
	start := p.pos.Byte
	i := start
	for i < len(p.src) && strings.IndexByte("+-0123456789.eE", p.src[i]) >= 0 {
		i++
	}
	text := string(p.src[start:i])
	if !json.Valid([]byte(text)) {
		return nil, p.errorf("invalid number %q", text)
	}
	p.advance(i - start)
	return &node{kind: kindNumber, str: text}, nil
}

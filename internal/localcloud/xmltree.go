package localcloud

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
)

// node is a minimal XML element tree, enough to rewrite EC2 responses
// without knowing their schema. Prefixes and attributes are kept verbatim.
type node struct {
	name     string
	attrs    []xml.Attr
	children []*node
	text     string
}

// parseXML parses an EC2 response body into its root element.
func parseXML(b []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*node
	var root *node
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse response xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: qname(t.Name), attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("parse response xml: no root element")
	}
	return root, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// bytes serialises the tree with an XML declaration.
func (n *node) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	n.write(&b)
	return b.Bytes()
}

func (n *node) write(b *bytes.Buffer) {
	b.WriteString("<" + n.name)
	for _, a := range n.attrs {
		b.WriteString(" " + qname(a.Name) + `="`)
		_ = xml.EscapeText(b, []byte(a.Value))
		b.WriteString(`"`)
	}
	b.WriteString(">")
	if len(n.children) == 0 {
		_ = xml.EscapeText(b, []byte(n.text))
	}
	for _, c := range n.children {
		c.write(b)
	}
	b.WriteString("</" + n.name + ">")
}

// child returns the first child element named name, or nil.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// path follows child names; nil when any is missing.
func (n *node) path(names ...string) *node {
	for _, name := range names {
		n = n.child(name)
	}
	return n
}

// items returns the <item> children of the element at path.
func (n *node) items(names ...string) []*node {
	var out []*node
	for _, c := range n.path(names...).kids() {
		if c.name == "item" {
			out = append(out, c)
		}
	}
	return out
}

func (n *node) kids() []*node {
	if n == nil {
		return nil
	}
	return n.children
}

// value returns the text of the child named name ("" when missing).
func (n *node) value(name string) string {
	if c := n.child(name); c != nil {
		return c.text
	}
	return ""
}

// set sets the text of the child named name, adding it when missing.
func (n *node) set(name, text string) *node {
	c := n.child(name)
	if c == nil {
		c = &node{name: name}
		n.children = append(n.children, c)
	}
	c.text, c.children = text, nil
	return c
}

// walk calls fn for n and every element below it.
func (n *node) walk(fn func(*node)) {
	fn(n)
	for _, c := range n.children {
		c.walk(fn)
	}
}

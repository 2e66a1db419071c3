package cloudinit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// An object is a YAML mapping with its keys in document order, as a Python
// dict keeps them.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

// set sets key k; a key set again keeps its first place.
func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// parseConfig reads a cloud-config document as cloud-init's
// yaml.safe_load does: YAML 1.1 booleans (yes, no, on, off), octal
// integers (0644) and a mapping at the top. It returns nil for an empty
// document. Merge keys (<<) are not supported: they stay keys.
func parseConfig(data []byte) (*object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, err
	}
	if err := dec.Decode(&next); err != io.EOF {
		return nil, errors.New("expected a single document in the stream")
	}
	v, err := (&converter{}).value(&doc, 0)
	switch v := v.(type) {
	case nil:
		return nil, err
	case *object:
		return v, err
	}
	return nil, fmt.Errorf("the document is a %s, not a mapping", typeName(v))
}

// yaml11Bools are the plain scalars that YAML 1.1 reads as booleans and
// YAML 1.2 (go-yaml) as strings.
var yaml11Bools = map[string]bool{
	"yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// converter turns YAML nodes into nil, bool, int, float64, string, []any
// and *object values, bounding alias expansion.
type converter struct{ nodes int }

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	if c.nodes++; c.nodes > 100000 || depth > 100 {
		return nil, errors.New("too many nested or aliased values")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		return c.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.MappingNode:
		o := newObject()
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := c.value(n.Content[i], depth+1)
			if err != nil {
				return nil, err
			}
			v, err := c.value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			o.set(pyStr(k), v)
		}
		return o, nil
	}
	if b, ok := yaml11Bools[n.Value]; ok && n.Style == 0 && n.Tag == "!!str" {
		return b, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float":
		var v any
		err := n.Decode(&v)
		return v, err
	}
	var s string
	if err := n.Decode(&s); err != nil {
		return n.Value, nil
	}
	return s, nil
}

// pyStr formats a value as Python's str() does for the scalars cloud-init
// turns into strings.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return v
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.ContainsAny(s, ".IN") {
			s += ".0"
		}
		return s
	}
	return fmt.Sprint(v)
}

// typeName names a value's type as cloud-init's messages do.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case float64:
		return "float"
	case []any:
		return "list"
	case *object:
		return "dict"
	}
	return "int"
}

// truthy is Python's truth value of a value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0
	case []any:
		return len(v) > 0
	case *object:
		return len(v.keys) > 0
	}
	return pyStr(v) != "0"
}

// isTrue is cloud-init's translate_bool: true for true, and for "true",
// "1", "on" and "yes" in any case.
func isTrue(v any) bool {
	if b, ok := v.(bool); ok || !truthy(v) {
		return b
	}
	switch strings.ToLower(strings.TrimSpace(pyStr(v))) {
	case "true", "1", "on", "yes":
		return true
	}
	return false
}

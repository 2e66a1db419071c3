package hcl2spec

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Field is one attribute or block of a Config struct, found through any
// squashed embedded structs.
type Field struct {
	Name      string       // HCL name
	Block     bool         // a nested block rather than an attribute
	Required  bool         // tagged required:"true"
	Sensitive bool         // tagged sensitive:"true"
	Index     []int        // reflect.Value.FieldByIndex path
	Type      reflect.Type // Go type of the field
}

// Fields lists the HCL fields of struct type t in declaration order. It
// fails on untagged exported fields, duplicate names, and types that have
// no HCL form.
func Fields(t reflect.Type) ([]Field, error) {
	var out []Field
	seen := map[string]bool{}
	if err := collect(t, nil, &out, seen); err != nil {
		return nil, err
	}
	return out, nil
}

func collect(t reflect.Type, index []int, out *[]Field, seen map[string]bool) error {
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("%s is not a struct", t)
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		tag, tagged := sf.Tag.Lookup("hcl")
		if tag == "-" {
			continue
		}
		if sf.Anonymous && !tagged {
			if err := collect(sf.Type, idx, out, seen); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if !tagged {
			return fmt.Errorf("%s.%s has no hcl tag", t, sf.Name)
		}
		name, opt, _ := strings.Cut(tag, ",")
		if seen[name] {
			return fmt.Errorf("%s.%s: duplicate HCL name %q", t, sf.Name, name)
		}
		seen[name] = true
		f := Field{
			Name: name, Block: opt == "block", Index: idx, Type: sf.Type,
			Required:  sf.Tag.Get("required") == "true",
			Sensitive: sf.Tag.Get("sensitive") == "true",
		}
		if err := checkShape(f); err != nil {
			return fmt.Errorf("%s.%s: %w", t, sf.Name, err)
		}
		*out = append(*out, f)
	}
	return nil
}

// BlockStruct returns the struct type of a block field (T, *T or []T).
func (f Field) BlockStruct() reflect.Type {
	t := f.Type
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

// Repeated reports whether a block field may appear several times.
func (f Field) Repeated() bool { return f.Block && f.Type.Kind() == reflect.Slice }

func checkShape(f Field) error {
	if f.Block {
		if f.BlockStruct().Kind() != reflect.Struct {
			return fmt.Errorf("block %q must be a struct, pointer to struct or slice of structs", f.Name)
		}
		return nil
	}
	_, err := CtyType(f.Type)
	return err
}

// CtyType returns the cty type of an attribute of Go type t.
func CtyType(t reflect.Type) (cty.Type, error) {
	switch t.Kind() {
	case reflect.Pointer:
		return CtyType(t.Elem())
	case reflect.String:
		return cty.String, nil
	case reflect.Bool:
		return cty.Bool, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return cty.Number, nil
	case reflect.Slice:
		et, err := CtyType(t.Elem())
		return cty.List(et), err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return cty.NilType, fmt.Errorf("map keys must be strings, not %s", t.Key())
		}
		et, err := CtyType(t.Elem())
		return cty.Map(et), err
	}
	return cty.NilType, fmt.Errorf("type %s has no HCL attribute form", t)
}

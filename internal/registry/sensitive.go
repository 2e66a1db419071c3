package registry

import (
	"reflect"
	"slices"

	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/hcl2spec"
)

// SensitiveAttrs returns the paths of comp's attributes tagged
// sensitive:"true", such as "secret_key" or "ssh_password"; attributes of
// nested blocks are "block.attr". Their values must never be printed.
func SensitiveAttrs(comp Component) []string {
	if comp.New == nil {
		return nil
	}
	t := reflect.TypeOf(comp.New())
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return sensitive(t, "")
}

func sensitive(t reflect.Type, prefix string) []string {
	fields, err := hcl2spec.Fields(t)
	if err != nil {
		return nil // the hcl2spec tests reject such a Config
	}
	var out []string
	for _, f := range fields {
		switch {
		case f.Block:
			out = append(out, sensitive(f.BlockStruct(), prefix+f.Name+".")...)
		case f.Sensitive:
			out = append(out, prefix+f.Name)
		}
	}
	return out
}

// SensitiveValues returns the non-empty values of cfg's attributes tagged
// sensitive:"true", in nested blocks too: the strings to mask in all
// output once cfg is decoded. cfg is a pointer to a Config struct; string
// values are collected from string, *string, []string and map[string]string
// attributes.
func SensitiveValues(cfg any) []string {
	v := reflect.ValueOf(cfg)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	sensitiveValues(v, &out)
	return out
}

func sensitiveValues(v reflect.Value, out *[]string) {
	fields, err := hcl2spec.Fields(v.Type())
	if err != nil {
		return
	}
	for _, f := range fields {
		fv := v.FieldByIndex(f.Index)
		switch {
		case f.Block:
			forEachBlock(fv, func(b reflect.Value) { sensitiveValues(b, out) })
		case f.Sensitive:
			appendFieldStrings(fv, out)
		}
	}
}

// forEachBlock calls fn with each struct of a block field (T, *T or []T).
func forEachBlock(v reflect.Value, fn func(reflect.Value)) {
	switch v.Kind() {
	case reflect.Struct:
		fn(v)
	case reflect.Pointer:
		if !v.IsNil() {
			fn(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			forEachBlock(v.Index(i), fn)
		}
	}
}

// appendFieldStrings appends the non-empty strings held by v.
func appendFieldStrings(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); s != "" {
			*out = append(*out, s)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			appendFieldStrings(v.Elem(), out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			appendFieldStrings(v.Index(i), out)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			appendFieldStrings(it.Value(), out)
		}
	}
}

// UnmarkSensitive returns v without hcl2spec.SensitiveMark (other marks
// stay) and
// every string that was under it, for masking.
func UnmarkSensitive(v cty.Value) (cty.Value, []string) {
	unmarked, pvms := v.UnmarkDeepWithPaths()
	var secrets []string
	var others []cty.PathValueMarks
	for _, pvm := range pvms {
		if _, ok := pvm.Marks[hcl2spec.SensitiveMark]; !ok {
			others = append(others, pvm)
			continue
		}
		if at, err := pvm.Path.Apply(unmarked); err == nil {
			secrets = appendStrings(secrets, at)
		}
		rest := cty.NewValueMarks() // a copy: pvm.Marks may be v's own
		for m := range pvm.Marks {
			if m != hcl2spec.SensitiveMark {
				rest[m] = struct{}{}
			}
		}
		if len(rest) > 0 {
			others = append(others, cty.PathValueMarks{Path: pvm.Path, Marks: rest})
		}
	}
	return unmarked.MarkWithPaths(others), slices.Clip(secrets)
}

// appendStrings appends every known string inside v.
func appendStrings(out []string, v cty.Value) []string {
	switch {
	case !v.IsKnown() || v.IsNull():
	case v.Type() == cty.String:
		out = append(out, v.AsString())
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			out = appendStrings(out, ev)
		}
	}
	return out
}

package registry

import (
	"reflect"

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

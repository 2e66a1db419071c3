package runner

import (
	"reflect"

	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// withBuildValues returns a copy of a provisioner's configuration whose
// strings have the build's values (build.Password, {{ .WinRMPassword }},
// build.ID, ...) filled in, as Packer renders them just before a
// provisioner runs. The configuration itself is shared by every region and
// retry, so it is never changed; placeholders that are not build values,
// such as execute_command's {{.Path}}, stay for the provisioner.
func withBuildValues(cfg provision.Provisioner, data interpolate.Data) provision.Provisioner {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return cfg
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	render(cp.Elem(), interpolate.BuildRenderer(data))
	if p, ok := cp.Interface().(provision.Provisioner); ok {
		return p
	}
	return cfg
}

// render replaces the build values in every settable string, string
// slice, string map and nested struct of v, copying slices and maps
// before writing so the original's stay untouched.
func render(v reflect.Value, fill func(string) string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(fill(v.String()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				render(f, fill)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String || !v.CanSet() || v.IsNil() {
			return
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).SetString(fill(v.Index(i).String()))
		}
		v.Set(out)
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String || !v.CanSet() || v.IsNil() {
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), reflect.ValueOf(fill(it.Value().String())).Convert(v.Type().Elem()))
		}
		v.Set(out)
	}
}

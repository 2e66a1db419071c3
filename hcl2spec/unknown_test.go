package hcl2spec_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/hcl2spec"
)

func hclsyntaxPos() hcl.Pos { return hcl.Pos{Line: 1, Column: 1} }

func TestUnknownPaths(t *testing.T) {
	val := cty.ObjectVal(map[string]cty.Value{
		"source_ami": cty.UnknownVal(cty.String).Mark("sensitive"),
		"region":     cty.StringVal("us-east-1"),
		"tags":       cty.MapVal(map[string]cty.Value{"a": cty.UnknownVal(cty.String)}),
		"ami_users":  cty.ListVal([]cty.Value{cty.UnknownVal(cty.String)}),
		"known_list": cty.ListVal([]cty.Value{cty.StringVal("x")}),
		"source_ami_filter": cty.ObjectVal(map[string]cty.Value{
			"owners": cty.UnknownVal(cty.List(cty.String)),
		}),
		"launch_block_device_mappings": cty.ListVal([]cty.Value{
			cty.ObjectVal(map[string]cty.Value{"volume_size": cty.NumberIntVal(1)}),
			cty.ObjectVal(map[string]cty.Value{"volume_size": cty.UnknownVal(cty.Number)}),
		}),
		"null_block": cty.NullVal(cty.EmptyObject),
	})
	got := hcl2spec.UnknownPaths(val)
	slices.Sort(got)
	want := []string{"ami_users", "launch_block_device_mappings.1.volume_size", "source_ami", "source_ami_filter.owners", "tags"}
	if !slices.Equal(got, want) {
		t.Errorf("UnknownPaths = %v, want %v", got, want)
	}
	if got := hcl2spec.UnknownPaths(cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("b")})); len(got) != 0 {
		t.Errorf("UnknownPaths(known) = %v", got)
	}
}

func TestFieldsRejectsBadStructs(t *testing.T) {
	type untagged struct{ A string }
	type dup struct {
		A string `hcl:"a"`
		B string `hcl:"a"`
	}
	type badType struct {
		C chan int `hcl:"c"`
	}
	type badMap struct {
		M map[int]string `hcl:"m"`
	}
	type badBlock struct {
		B string `hcl:"b,block"`
	}
	tests := map[string]any{"untagged": untagged{}, "duplicate": dup{}, "channel": badType{}, "int keys": badMap{}, "string block": badBlock{}}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := hcl2spec.Fields(reflectType(v)); err == nil {
				t.Errorf("Fields(%T) succeeded", v)
			}
		})
	}
}

func reflectType(v any) reflect.Type { return reflect.TypeOf(v) }

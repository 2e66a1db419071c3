package template

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestCoalesce checks Packer's documented examples: the first argument
// that is neither null nor an empty string.
func TestCoalesce(t *testing.T) {
	for _, tt := range []struct {
		args []cty.Value
		want cty.Value
	}{
		{[]cty.Value{cty.StringVal("a"), cty.StringVal("b")}, cty.StringVal("a")},
		{[]cty.Value{cty.StringVal(""), cty.StringVal("b")}, cty.StringVal("b")},
		{[]cty.Value{cty.NumberIntVal(1), cty.NumberIntVal(2)}, cty.NumberIntVal(1)},
		{[]cty.Value{cty.NullVal(cty.String), cty.StringVal(""), cty.StringVal("c")}, cty.StringVal("c")},
		{[]cty.Value{cty.NumberIntVal(1), cty.StringVal("hello")}, cty.StringVal("1")},
		{[]cty.Value{cty.UnknownVal(cty.String), cty.StringVal("b")}, cty.UnknownVal(cty.String)},
	} {
		got, err := coalesceFunc.Call(tt.args)
		if err != nil || !got.RawEquals(tt.want) {
			t.Errorf("coalesce(%#v) = %#v, %v; want %#v", tt.args, got, err, tt.want)
		}
	}
	for _, args := range [][]cty.Value{
		{cty.StringVal(""), cty.NullVal(cty.String)},
		{cty.EmptyObjectVal, cty.StringVal("hello")},
	} {
		if got, err := coalesceFunc.Call(args); err == nil {
			t.Errorf("coalesce(%#v) = %#v, want an error", args, got)
		}
	}
}

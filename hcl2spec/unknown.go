package hcl2spec

import (
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// UnknownPaths lists the dotted paths of values in val that are not known
// yet (for example a data source's output at validate time), in the form
// check.Context.Unknown expects: an attribute ("source_ami"), a block
// attribute ("source_ami_filter.owners"), an attribute of one repeated
// block ("launch_block_device_mappings.0.volume_size"), or a whole list or
// map that holds an unknown element ("tags"). Decode leaves these values
// at their zero value.
func UnknownPaths(val cty.Value) []string {
	val, _ = val.UnmarkDeep()
	var out []string
	walkUnknown(val, nil, &out)
	return out
}

func walkUnknown(val cty.Value, path []string, out *[]string) {
	add := func() {
		if len(path) > 0 {
			*out = append(*out, strings.Join(path, "."))
		}
	}
	if !val.IsKnown() {
		add()
		return
	}
	if val.IsNull() {
		return
	}
	ty := val.Type()
	switch {
	case ty.IsObjectType():
		for it := val.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			walkUnknown(ev, appendPath(path, k.AsString()), out)
		}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		i := 0
		for it := val.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			if ev.Type().IsObjectType() {
				walkUnknown(ev, appendPath(path, strconv.Itoa(i)), out)
			} else if !ev.IsWhollyKnown() {
				add()
				return
			}
		}
	case ty.IsMapType():
		if !val.IsWhollyKnown() {
			add()
		}
	}
}

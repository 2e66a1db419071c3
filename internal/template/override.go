package template

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// withoutName returns the override body of a build's source block without
// its name attribute. For native syntax it copies the block's body so the
// result can be merged attribute by attribute.
func withoutName(orig, partial hcl.Body) hcl.Body {
	sb, ok := orig.(*hclsyntax.Body)
	if !ok {
		return partial
	}
	out := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: sb.Blocks, SrcRange: sb.SrcRange, EndRange: sb.EndRange}
	for k, a := range sb.Attributes {
		if k != "name" {
			out.Attributes[k] = a
		}
	}
	return out
}

// overrideBody returns base with override's attributes replacing base's,
// and override's blocks replacing every base block of the same type, the
// way Packer applies build-level source blocks.
func overrideBody(base, override hcl.Body) hcl.Body {
	b, ok1 := base.(*hclsyntax.Body)
	o, ok2 := override.(*hclsyntax.Body)
	if !ok1 || !ok2 {
		return hcl.MergeBodies([]hcl.Body{base, override})
	}
	out := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, SrcRange: b.SrcRange, EndRange: b.EndRange}
	for k, a := range b.Attributes {
		out.Attributes[k] = a
	}
	for k, a := range o.Attributes {
		out.Attributes[k] = a
	}
	replaced := map[string]bool{}
	for _, blk := range o.Blocks {
		replaced[blk.Type] = true
	}
	for _, blk := range b.Blocks {
		if !replaced[blk.Type] {
			out.Blocks = append(out.Blocks, blk)
		}
	}
	out.Blocks = append(out.Blocks, o.Blocks...)
	return out
}

package check

import (
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// BodyFields returns the Fields of a decoded body. For native syntax bodies
// it walks attributes and nested blocks; path elements that are decimal
// numbers select one of several blocks of the same type
// ("launch_block_device_mappings", "1", "volume_type"). For other bodies
// (JSON, merged bodies) it finds top-level attributes on a best-effort basis.
// A path that is not present resolves to the closest enclosing range.
func BodyFields(body hcl.Body) Fields {
	if body == nil {
		return bodyFields{}
	}
	return bodyFields{body: body}
}

type bodyFields struct {
	body hcl.Body
}

// Range implements Fields.
func (f bodyFields) Range(path ...string) hcl.Range {
	if f.body == nil {
		return hcl.Range{}
	}
	if sb, ok := f.body.(*hclsyntax.Body); ok {
		return syntaxRange(sb, path)
	}
	return genericRange(f.body, path)
}

// syntaxRange resolves path in a native syntax body. An attribute resolves
// to its expression, a block to its header.
func syntaxRange(b *hclsyntax.Body, path []string) hcl.Range {
	fallback := b.MissingItemRange()
	if len(path) == 0 {
		return fallback
	}
	if attr, ok := b.Attributes[path[0]]; ok {
		return attr.Expr.Range()
	}
	blocks := blocksOfType(b, path[0])
	if len(blocks) == 0 {
		return fallback
	}
	rest := path[1:]
	blk := blocks[0]
	if len(rest) > 0 {
		if i, err := strconv.Atoi(rest[0]); err == nil {
			rest = rest[1:]
			if i < 0 || i >= len(blocks) {
				return blk.DefRange()
			}
			blk = blocks[i]
		}
	}
	if len(rest) == 0 {
		return blk.DefRange()
	}
	if _, ok := blk.Body.Attributes[rest[0]]; !ok && len(blocksOfType(blk.Body, rest[0])) == 0 {
		return blk.DefRange()
	}
	return syntaxRange(blk.Body, rest)
}

func blocksOfType(b *hclsyntax.Body, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, blk := range b.Blocks {
		if blk.Type == typ {
			out = append(out, blk)
		}
	}
	return out
}

// genericRange finds top-level attributes of any body; nested paths resolve
// to the attribute or, failing that, to the body's missing item range.
func genericRange(body hcl.Body, path []string) hcl.Range {
	fallback := body.MissingItemRange()
	if len(path) == 0 {
		return fallback
	}
	// JustAttributes reports blocks as errors but still returns the
	// attributes it found, which is all we need here.
	attrs, _ := body.JustAttributes()
	if attr, ok := attrs[path[0]]; ok {
		return attr.Expr.Range()
	}
	return fallback
}

// Package amazon holds the configuration shared by the amazon builders
// (amazon-ebs, amazon-instance) and data sources: AWS access, the AMI to
// create, the instance to launch, block devices and wait deadlines.
//
// The structs are squashed into one flat HCL body, as in Packer. Each
// Prepare method fills defaults and records diagnostics offline, without
// calling AWS.
package amazon

import (
	"maps"
	"slices"

	"github.com/imgbuild/imgbuild/internal/check"
)

// KeyValue is one tag {} style block, an alternative to a tags map that
// allows keys which are not valid HCL identifiers.
type KeyValue struct {
	// Key is the tag key. Required.
	Key string `hcl:"key" required:"true"`
	// Value is the tag value; it may hold legacy placeholders such as
	// {{ .SourceAMIName }}.
	Value string `hcl:"value"`
}

// MergeTags copies repeated key/value blocks into m (creating it when
// needed) and checks the placeholders of every key and value. Entries in m
// win over blocks with the same key, as in Packer.
func MergeTags(ctx *check.Context, name string, m map[string]string, blocks []KeyValue) map[string]string {
	if len(blocks) > 0 && m == nil {
		m = map[string]string{}
	}
	for _, kv := range blocks {
		if _, ok := m[kv.Key]; !ok {
			m[kv.Key] = kv.Value
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		ctx.Placeholders(check.Path(name), k)
		ctx.Placeholders(check.Path(name), v)
	}
	return m
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}

// Package hcl2spec holds the hcldec specs of every component's Config,
// generated from the Config structs, and Decode, which turns a value
// decoded with such a spec back into the Config.
//
// The struct tags are the single source of truth:
//
//	hcl:"name"          an attribute
//	hcl:"name,block"    a nested block (struct or pointer to struct), or a
//	                    repeatable block (slice of structs)
//	hcl:"-"             not configuration; ignored
//	required:"true"     the attribute must be set (checked by hcldec)
//	sensitive:"true"    the value is a secret and must never be printed
//
// Embedded structs without an hcl tag are squashed: their fields belong to
// the same body, as with Packer's mapstructure ",squash". Attribute types
// follow the Go types: string, bool and numbers are cty.String, cty.Bool
// and cty.Number (durations are strings), []T is a list, map[string]T a map.
//
// Run "go generate ./hcl2spec" after changing a Config; a test fails while
// the generated files are stale.
package hcl2spec

//go:generate go run ./internal/gen

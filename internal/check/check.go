// Package check collects semantic checks of decoded component configuration
// as HCL diagnostics that point at the attribute a user has to fix.
package check

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Fields locates the attributes and nested blocks of one decoded body so a
// diagnostic can point at them.
type Fields interface {
	// Range returns the range of the attribute or block named by path
	// (for example "ami_name", or "source_ami_filter", "owners"). When the
	// path is not present it returns the closest enclosing range.
	Range(path ...string) hcl.Range
}

// Context is handed to a component's Prepare method. It carries what a
// check needs to report a precise diagnostic and collects those diagnostics.
type Context struct {
	Fields  Fields
	BaseDir string // working directory, for relative component file paths
	Diags   hcl.Diagnostics

	// Unknown holds the dotted paths (as hcl2spec.UnknownPaths reports
	// them, e.g. "source_ami" or "tags") whose values are not known yet at
	// validate time, such as a data source's output. Checks treat them as
	// set and skip their value checks.
	Unknown map[string]bool
}

// IsUnknown reports whether the value at path is not known yet.
func (c *Context) IsUnknown(path ...string) bool {
	return c.Unknown[strings.Join(path, ".")]
}

// unknownWithin reports whether the value at path, or a list, map or
// block that holds it, is not known yet.
func (c *Context) unknownWithin(path []string) bool {
	for i := len(path); i > 0; i-- {
		if c.IsUnknown(path[:i]...) {
			return true
		}
	}
	return false
}

// Check records err, if not nil, as an error diagnostic at path, unless
// the value at path (or what holds it) is not known yet: decoding leaves
// such a value at its zero value, which err then describes, not the
// value the build will have.
func (c *Context) Check(path []string, summary string, err error) {
	if err != nil && !c.unknownWithin(path) {
		c.Errorf(path, summary, "%s", err)
	}
}

// HasErrors reports whether an error diagnostic was recorded.
func (c *Context) HasErrors() bool { return c.Diags.HasErrors() }

// Errorf records an error diagnostic at the attribute named by path.
func (c *Context) Errorf(path []string, summary, detailFormat string, args ...any) {
	c.add(hcl.DiagError, path, summary, detailFormat, args...)
}

// Warnf records a warning diagnostic at the attribute named by path.
func (c *Context) Warnf(path []string, summary, detailFormat string, args ...any) {
	c.add(hcl.DiagWarning, path, summary, detailFormat, args...)
}

func (c *Context) add(sev hcl.DiagnosticSeverity, path []string, summary, detailFormat string, args ...any) {
	d := &hcl.Diagnostic{Severity: sev, Summary: summary, Detail: fmt.Sprintf(detailFormat, args...)}
	if c.Fields != nil {
		r := c.Fields.Range(path...)
		d.Subject = &r
	}
	c.Diags = append(c.Diags, d)
}

// Path is shorthand for building an attribute path.
func Path(p ...string) []string { return p }

package check

import "github.com/imgbuild/imgbuild/internal/interpolate"

// These helpers record a diagnostic when a value is set and invalid; empty
// values are left to the required checks.

// Enum records an error when s is set and not one of allowed.
func (c *Context) Enum(path []string, s string, allowed ...string) {
	if s != "" {
		c.Check(path, "Invalid value for "+last(path), OneOf(s, allowed...))
	}
}

// DurationAttr records an error when s is set and not a valid duration.
func (c *Context) DurationAttr(path []string, s string) {
	if s != "" {
		_, err := Duration(s)
		c.Check(path, "Invalid duration for "+last(path), err)
	}
}

// File records an error when path is set and names no regular file.
func (c *Context) File(path []string, file string) {
	if file != "" {
		c.Check(path, "File not found for "+last(path), FileExists(c.BaseDir, file))
	}
}

// Placeholders records an error when s holds a legacy placeholder that
// does not render.
func (c *Context) Placeholders(path []string, s string) {
	if s != "" {
		c.Check(path, "Invalid template in "+last(path), interpolate.Check(s))
	}
}

// Set reports whether a value is present at path: non-empty, or not known yet.
func (c *Context) Set(nonEmpty bool, path ...string) bool {
	return nonEmpty || c.IsUnknown(path...)
}

// Require records an error when the value at path is neither set nor unknown.
func (c *Context) Require(path []string, nonEmpty bool, detail string) {
	if !c.Set(nonEmpty, path...) {
		c.Errorf(path, "Missing required argument", "The argument %q is required: %s", last(path), detail)
	}
}

func last(path []string) string {
	if len(path) == 0 {
		return "configuration"
	}
	return path[len(path)-1]
}

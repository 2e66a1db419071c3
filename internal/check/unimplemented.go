package check

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Unimplemented is the Extra of a diagnostic that refuses a setting this
// version of imgbuild parses but cannot honour yet, so it is never
// silently ignored. Name is the setting as a user writes it, such as
// "spot_price", `communicator = "winrm"` or `provisioner "powershell"`.
type Unimplemented struct {
	Name string
}

// NotImplementedDiag returns the error diagnostic, at subject (which may be
// nil), that refuses name as not implemented yet; hint says what to do
// instead.
func NotImplementedDiag(subject *hcl.Range, name, hint string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  name + " is not implemented yet",
		Detail:   strings.TrimSpace(fmt.Sprintf("%s is not implemented yet in this version of imgbuild. %s", name, hint)),
		Subject:  subject,
		Extra:    Unimplemented{Name: name},
	}
}

// NotImplemented records an error at the attribute or block named by
// path: name is not implemented yet. hint says what to do instead.
func (c *Context) NotImplemented(path []string, name, hint string) {
	var subject *hcl.Range
	if c.Fields != nil {
		r := c.Fields.Range(path...)
		subject = &r
	}
	c.Diags = append(c.Diags, NotImplementedDiag(subject, name, hint))
}

// RefuseSet records NotImplemented at path, named by its dotted path,
// when the value there is set (nonEmpty) or not known yet.
func (c *Context) RefuseSet(path []string, nonEmpty bool, hint string) {
	if c.Set(nonEmpty, path...) {
		c.NotImplemented(path, strings.Join(path, "."), hint)
	}
}

// UnimplementedName returns the name of the setting d refuses as not
// implemented yet, and whether d is such a refusal.
func UnimplementedName(d *hcl.Diagnostic) (string, bool) {
	u, ok := d.Extra.(Unimplemented)
	return u.Name, ok
}

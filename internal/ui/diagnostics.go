package ui

import (
	"bytes"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders every diagnostic with its file, line, column
// and source snippet (taken from files, the parser's files) and masks
// secrets. Errors go before warnings; order is otherwise kept. It returns
// the number of errors and warnings written.
func (u *UI) WriteDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) (errs, warns int) {
	var buf bytes.Buffer
	errs, warns = RenderDiagnostics(&buf, files, diags, 100)
	u.mu.Lock()
	defer u.mu.Unlock()
	io.WriteString(u.errOut, u.masker.Mask(buf.String()))
	return errs, warns
}

// RenderDiagnostics writes diagnostics as text to w, width columns wide.
func RenderDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint) (errs, warns int) {
	tw := hcl.NewDiagnosticTextWriter(w, files, width, false)
	ordered := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			ordered = append(ordered, d)
			errs++
		}
	}
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			ordered = append(ordered, d)
			warns++
		}
	}
	for _, d := range ordered {
		tw.WriteDiagnostic(d)
	}
	if errs > 0 {
		fmt.Fprintf(w, "%d error(s), %d warning(s)\n", errs, warns)
	}
	return errs, warns
}

// Package legacyjson reads Packer's legacy JSON templates (variables,
// builders, provisioners, post-processors, with {{ }} placeholders) by
// converting them to HCL, as `packer hcl2_upgrade` does.
//
// Every generated line remembers the JSON it came from, so diagnostics
// about the converted template (an unknown builder type, an unsupported
// argument, a bad placeholder) are reported at the JSON file and line,
// with the JSON as the snippet.
package legacyjson

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Options controls a conversion.
type Options struct {
	// Upgrade adds what hcl2_upgrade writes beyond the template's meaning:
	// the packer block's required_plugins.
	Upgrade bool
}

// Result is a converted template.
type Result struct {
	// HCL is the converted template, in native HCL syntax. Its lines
	// match the origins; Formatted is the same text laid out by hclwrite.
	HCL []byte
	// JSONFile is the legacy template, for rendering diagnostics.
	JSONFile *hcl.File
	// HCLName is the file name the HCL is parsed under; the JSON keeps
	// its own name.
	HCLName string

	origins []line
}

// HCLSuffix is added to a legacy template's name to name its converted
// HCL, as hcl2_upgrade names its output file.
const HCLSuffix = ".pkr.hcl"

// IsLegacy reports whether src looks like a legacy JSON template: a JSON
// object with a builders key.
func IsLegacy(src []byte) bool {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(src, &top); err != nil {
		return bytes.HasPrefix(bytes.TrimSpace(src), []byte("{")) && bytes.Contains(src, []byte(`"builders"`))
	}
	_, ok := top["builders"]
	return ok
}

// Convert converts the legacy template src, read from filename. The
// diagnostics point into the JSON. The result is nil when the JSON cannot
// be parsed.
func Convert(src []byte, filename string, opts Options) (*Result, hcl.Diagnostics) {
	root, diags := parseJSON(src, filename)
	if diags.HasErrors() {
		return nil, diags
	}
	r := &Result{JSONFile: &hcl.File{Bytes: src}, HCLName: filename + HCLSuffix}
	if root.kind != kindObject {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid legacy template",
			Detail: "A legacy JSON template is an object with builders.", Subject: root.rng.Ptr()}}
	}
	c := &converter{filename: filename, root: root, opts: opts, locals: map[string]bool{},
		sensitive: map[string]bool{}, userRefs: map[string]hcl.Range{}, sourceNames: map[string]string{}}
	out := c.convert()
	r.origins = out
	r.HCL = out.text()
	return r, c.diags
}

// Formatted returns the HCL in canonical layout, as hcl2_upgrade writes it.
func (r *Result) Formatted() []byte { return hclwrite.Format(r.HCL) }

// MapRange returns the JSON range a range of the converted HCL comes from.
// Ranges in other files are returned unchanged.
func (r *Result) MapRange(rng hcl.Range) hcl.Range {
	if rng.Filename != r.HCLName {
		return rng
	}
	start, ok := r.at(rng.Start)
	if !ok {
		return r.fallback()
	}
	if rng.End.Line != rng.Start.Line {
		if end, ok := r.at(rng.End); ok && end.End.Byte > start.Start.Byte && end.Filename == start.Filename {
			return hcl.RangeBetween(start, end)
		}
	}
	return start
}

// at finds the JSON range for a position in the HCL: that of its line,
// or of the nearest line before it that has one.
func (r *Result) at(pos hcl.Pos) (hcl.Range, bool) {
	for i := pos.Line - 1; i >= 0 && i < len(r.origins); i-- {
		l := r.origins[i]
		if !l.o.valid() {
			continue
		}
		col := pos.Column - 1 - 2*l.indent
		if i != pos.Line-1 {
			col = 1 << 30
		}
		return l.o.at(col), true
	}
	return hcl.Range{}, false
}

func (r *Result) fallback() hcl.Range {
	for _, l := range r.origins {
		if l.o.valid() {
			return l.o.at(0)
		}
	}
	return hcl.Range{}
}

// MapDiagnostics rewrites the subjects and contexts of diagnostics about
// the converted HCL to point into the JSON, and names the JSON instead of
// the HCL in their text.
func (r *Result) MapDiagnostics(diags hcl.Diagnostics) {
	ranges := regexp.MustCompile(regexp.QuoteMeta(r.HCLName) + `:(\d+),(\d+)-(\d+)(?:,(\d+))?`)
	for _, d := range diags {
		if d.Subject != nil && d.Subject.Filename == r.HCLName {
			m := r.MapRange(*d.Subject)
			d.Subject = &m
		}
		if d.Context != nil && d.Context.Filename == r.HCLName {
			m := r.MapRange(*d.Context)
			if d.Subject != nil && !m.Overlaps(*d.Subject) {
				d.Context = nil
			} else {
				d.Context = &m
			}
		}
		d.Detail = r.mapText(ranges, d.Detail)
	}
}

// mapText rewrites the ranges of the converted HCL that text names (re
// matches them as hcl.Range.String writes them: "file:line,col-col" or
// "file:line,col-line,col") to their JSON ranges, and any other mention
// of the HCL's name to the JSON's.
func (r *Result) mapText(re *regexp.Regexp, text string) string {
	text = re.ReplaceAllStringFunc(text, func(m string) string {
		g := re.FindStringSubmatch(m)
		n := func(i int) int { v, _ := strconv.Atoi(g[i]); return v }
		rng := hcl.Range{Filename: r.HCLName, Start: hcl.Pos{Line: n(1), Column: n(2)}, End: hcl.Pos{Line: n(1), Column: n(3)}}
		if g[4] != "" {
			rng.End = hcl.Pos{Line: n(3), Column: n(4)}
		}
		mapped := r.MapRange(rng)
		if mapped.Filename == "" {
			return m
		}
		return mapped.String()
	})
	return strings.ReplaceAll(text, r.HCLName, strings.TrimSuffix(r.HCLName, HCLSuffix))
}

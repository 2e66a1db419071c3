package template

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/imgbuild/imgbuild/internal/legacyjson"
)

// Options controls how a template is loaded.
type Options struct {
	Vars     []string            // -var NAME=VALUE, in command-line order
	VarFiles []string            // -var-file paths, in command-line order
	Getenv   func(string) string // environment (PKR_VAR_x, IMGBUILD_VAR_x)
	Environ  func() []string     // environment listing, for undeclared-var checks
	// SyntaxOnly stops after parsing: no decoding or evaluation.
	SyntaxOnly bool
	// Evaluator resolves data sources. When nil, data sources are checked
	// but not contacted and their outputs take placeholder values.
	Evaluator DataEvaluator
	Now       time.Time
	// WorkDir is the directory component paths (provisioner scripts and
	// sources, user_data_file, ...) resolve against, as Packer resolves them
	// against its working directory; path.cwd names it. Empty: the
	// process's working directory.
	WorkDir string
}

// File suffixes the loader recognises.
const (
	suffixHCL         = ".pkr.hcl"
	suffixJSON        = ".pkr.json"
	suffixVarsHCL     = ".pkrvars.hcl"
	suffixVarsJSON    = ".pkrvars.json"
	suffixAutoVarsHCL = ".auto.pkrvars.hcl"
	suffixAutoVarJSON = ".auto.pkrvars.json"
)

// loader carries the state of one Load call.
type loader struct {
	opts   Options
	parser *hclparse.Parser
	t      *Template
	diags  hcl.Diagnostics
	// declared body contents, by file, in file order
	bodies []*hcl.BodyContent
	funcs  map[string]function.Function
	// brokenSources are sources with an unknown type, already reported;
	// references to them are not reported again.
	brokenSources map[string]bool
	// path is the path object (root, cwd), made once the directory is
	// known: every evaluation context shares it.
	path cty.Value
	// legacy are the legacy JSON templates read, converted to HCL.
	legacy []*legacyjson.Result
	// legacyDiags are the problems found converting them: they do not
	// stop the loading, so the rest of the template is checked too.
	legacyDiags hcl.Diagnostics
}

// Load reads the template at path (a file or a directory) and returns it
// with every diagnostic found. The template is usable only when the
// diagnostics have no errors; it is returned anyway so callers can render
// diagnostics with its Files.
func Load(path string, opts Options) (_ *Template, diags hcl.Diagnostics) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Environ == nil {
		opts.Environ = os.Environ
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	l := &loader{opts: opts, parser: hclparse.NewParser(), brokenSources: map[string]bool{}}
	defer func() {
		for _, r := range l.legacy {
			r.MapDiagnostics(diags)
		}
		// Conversion problems come first: they are the JSON's own.
		diags = append(l.legacyDiags, diags...)
	}()
	l.t = &Template{
		Path: path, Files: l.parser.Files(), Now: opts.Now,
		Variables: map[string]*Variable{}, Locals: map[string]*Local{},
		Data: map[string]*DataSource{}, Sources: map[string]*Source{},
	}
	files, autoVars, err := discover(path)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read template", Detail: err.Error()})
		return l.t, l.diags
	}
	l.t.Dir = dirOf(path)
	l.t.WorkDir = absDir(opts.WorkDir)
	if opts.WorkDir == "" {
		l.t.WorkDir = cwd()
	}
	l.path = cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(absDir(l.t.Dir)), "cwd": cty.StringVal(l.t.WorkDir)})
	l.parseFiles(files)
	varFiles := l.parseVarFiles(append(autoVars, opts.VarFiles...))
	if l.diags.HasErrors() || opts.SyntaxOnly {
		return l.t, l.diags
	}
	l.decodeTopLevel()
	l.assignVariables(varFiles)
	l.evaluateLocalsAndData()
	l.decodeBuilds()
	return l.t, dedupe(l.diags)
}

// dedupe drops a diagnostic that repeats an earlier one's severity,
// summary and location (a component's own checks may restate what the
// spec already reported, such as a missing required argument).
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sev      hcl.DiagnosticSeverity
		summary  string
		file     string
		line, ch int
	}
	seen := map[key]bool{}
	out := diags[:0:0]
	for _, d := range diags {
		k := key{sev: d.Severity, summary: d.Summary}
		if d.Subject != nil {
			k.file, k.line, k.ch = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

func dirOf(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return path
	}
	return filepath.Dir(path)
}

// discover lists the template files and auto var files at path.
func discover(path string) (files, autoVars []string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		if !isTemplateFile(path) && !isLegacyFile(path) {
			return nil, nil, fmt.Errorf("%s: not a template file (want *%s, *%s or a legacy JSON template)", path, suffixHCL, suffixJSON)
		}
		return []string{path}, nil, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := filepath.Join(path, e.Name())
		switch {
		case e.IsDir():
		case isTemplateFile(name):
			files = append(files, name)
		case strings.HasSuffix(name, suffixAutoVarsHCL), strings.HasSuffix(name, suffixAutoVarJSON):
			autoVars = append(autoVars, name)
		}
	}
	if len(files) == 0 {
		for _, e := range entries {
			if name := filepath.Join(path, e.Name()); !e.IsDir() && isLegacyFile(name) {
				return nil, nil, fmt.Errorf("%s: no *%s or *%s files in the directory; %s is a legacy JSON template, read when named on its own", path, suffixHCL, suffixJSON, name)
			}
		}
		return nil, nil, fmt.Errorf("%s: no *%s or *%s files in the directory", path, suffixHCL, suffixJSON)
	}
	sort.Strings(files)
	sort.Strings(autoVars)
	return files, autoVars, nil
}

func isTemplateFile(name string) bool {
	return strings.HasSuffix(name, suffixHCL) || strings.HasSuffix(name, suffixJSON)
}

func (l *loader) parseFiles(files []string) {
	for _, name := range files {
		f, diags := l.parse(name)
		l.diags = append(l.diags, diags...)
		if f == nil {
			continue
		}
		content, diags := f.Body.Content(topSchema)
		l.diags = append(l.diags, diags...)
		l.bodies = append(l.bodies, content)
	}
}

// isLegacyFile reports whether name is a legacy JSON template (read only
// when named on its own, as Packer reads them).
func isLegacyFile(name string) bool {
	if !strings.HasSuffix(name, ".json") || strings.HasSuffix(name, suffixJSON) || strings.HasSuffix(name, suffixVarsJSON) {
		return false
	}
	src, err := os.ReadFile(name)
	return err == nil && legacyjson.IsLegacy(src)
}

// parseLegacy converts a legacy JSON template and parses the result. The
// JSON stays in the files under its name for diagnostic snippets; Load
// maps diagnostics about the HCL back to it.
func (l *loader) parseLegacy(name string) (*hcl.File, hcl.Diagnostics) {
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read template", Detail: err.Error()}}
	}
	l.t.Files[name] = &hcl.File{Bytes: src}
	r, diags := legacyjson.Convert(src, name, legacyjson.Options{})
	if r == nil {
		return nil, diags
	}
	l.legacy = append(l.legacy, r)
	l.legacyDiags = append(l.legacyDiags, diags...)
	return l.parser.ParseHCL(r.HCL, r.HCLName)
}

func (l *loader) parse(name string) (*hcl.File, hcl.Diagnostics) {
	if isLegacyFile(name) {
		return l.parseLegacy(name)
	}
	if strings.HasSuffix(name, ".json") {
		return l.parser.ParseJSONFile(name)
	}
	return l.parser.ParseHCLFile(name)
}

// parseVarFiles parses var files and returns their attributes in order.
func (l *loader) parseVarFiles(names []string) []hcl.Attributes {
	var out []hcl.Attributes
	for _, name := range names {
		if !strings.HasSuffix(name, suffixVarsHCL) && !strings.HasSuffix(name, suffixVarsJSON) &&
			!strings.HasSuffix(name, ".hcl") && !strings.HasSuffix(name, ".json") {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid variables file",
				Detail: fmt.Sprintf("%s: a variables file must end in %s or %s.", name, suffixVarsHCL, suffixVarsJSON)})
			continue
		}
		f, diags := l.parse(name)
		l.diags = append(l.diags, diags...)
		if f == nil {
			continue
		}
		attrs, diags := f.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		out = append(out, attrs)
	}
	return out
}

// topSchema is the schema of a template file.
var topSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "packer"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "variables"},
		{Type: "locals"},
		{Type: "local", LabelNames: []string{"name"}},
		{Type: "data", LabelNames: []string{"type", "name"}},
		{Type: "source", LabelNames: []string{"type", "name"}},
		{Type: "build"},
	},
}

// decodeTopLevel decodes declarations: variables, locals, data, sources.
// Builds are decoded after evaluation, in decodeBuilds.
func (l *loader) decodeTopLevel() {
	for _, content := range l.bodies {
		for _, b := range content.Blocks {
			switch b.Type {
			case "packer":
				l.diags = append(l.diags, packerNote(b))
			case "variable":
				l.declareVariable(b)
			case "variables":
				l.declareVariablesBlock(b)
			case "locals":
				l.declareLocals(b)
			case "local":
				l.declareLocal(b)
			case "data":
				l.declareData(b)
			case "source":
				l.declareSource(b)
			}
		}
	}
}

func packerNote(b *hcl.Block) *hcl.Diagnostic {
	r := b.DefRange
	return &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "packer block ignored",
		Detail:   "imgbuild has its components built in; required_version and required_plugins are not used.",
		Subject:  &r,
	}
}

// nullOr returns v, or cty.NullVal(ty) when v is the zero Value.
func nullOr(v cty.Value, ty cty.Type) cty.Value {
	if v == cty.NilVal {
		return cty.NullVal(ty)
	}
	return v
}

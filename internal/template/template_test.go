package template_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/tools/txtar"

	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/internal/ui"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*/*.txtar")

// loadCase writes a txtar archive's files to a temp directory and loads the
// template there. A file named "args" holds one -var/-var-file/env setting
// a line: "-var NAME=VALUE", "-var-file FILE" or "env NAME=VALUE".
func loadCase(t *testing.T, ar *txtar.Archive) (string, *template.Template, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	var opts template.Options
	env := map[string]string{}
	for _, f := range ar.Files {
		switch f.Name {
		case "want":
			continue
		case "args":
			for _, line := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
				kind, val, _ := strings.Cut(line, " ")
				switch kind {
				case "-var":
					opts.Vars = append(opts.Vars, val)
				case "-var-file":
					opts.VarFiles = append(opts.VarFiles, filepath.Join(dir, val))
				case "env":
					k, v, _ := strings.Cut(val, "=")
					env[k] = v
				}
			}
			continue
		}
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts.Getenv = func(k string) string { return env[k] }
	opts.Environ = func() []string {
		var out []string
		for k, v := range env {
			out = append(out, k+"="+v)
		}
		return out
	}
	opts.Now = time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	opts.WorkDir = dir
	tpl, diags := template.Load(dir, opts)
	return dir, tpl, diags
}

// describe renders diagnostics one a line: "error main.pkr.hcl:3: Summary".
func describe(dir string, diags hcl.Diagnostics) string {
	var lines []string
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		loc := "-"
		if d.Subject != nil {
			rel, err := filepath.Rel(dir, d.Subject.Filename)
			if err != nil || strings.HasPrefix(rel, "..") {
				rel = d.Subject.Filename
			}
			loc = fmt.Sprintf("%s:%d", rel, d.Subject.Start.Line)
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s", sev, loc, d.Summary))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestInvalidTemplates(t *testing.T) {
	runCases(t, "testdata/invalid", func(t *testing.T, got string, diags hcl.Diagnostics) {
		if !diags.HasErrors() {
			t.Errorf("template loaded without errors; want errors")
		}
	})
}

func TestValidTemplates(t *testing.T) {
	runCases(t, "testdata/valid", func(t *testing.T, got string, diags hcl.Diagnostics) {
		if diags.HasErrors() {
			t.Errorf("unexpected errors:\n%s", got)
		}
	})
}

// runCases loads every txtar file in dir and compares its diagnostics
// (and, for cases with a "detail" file, detail substrings) with "want".
func runCases(t *testing.T, dir string, extra func(*testing.T, string, hcl.Diagnostics)) {
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", dir, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tmp, tpl, diags := loadCase(t, ar)
			got := describe(tmp, diags)
			extra(t, got, diags)
			checkWant(t, file, ar, got, diags)
			checkSecret(t, ar, tpl, diags)
		})
	}
}

func checkWant(t *testing.T, file string, ar *txtar.Archive, got string, diags hcl.Diagnostics) {
	t.Helper()
	var want, details string
	for _, f := range ar.Files {
		switch f.Name {
		case "want":
			want = strings.TrimSpace(string(f.Data))
		case "detail":
			details = string(f.Data)
		}
	}
	if *update {
		setSection(ar, "want", got+"\n")
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("diagnostics differ\n--- got ---\n%s\n--- want ---\n%s", got, want)
	}
	var all strings.Builder
	for _, d := range diags {
		all.WriteString(d.Detail + "\n")
	}
	for _, sub := range strings.Split(strings.TrimSpace(details), "\n") {
		if sub != "" && !strings.Contains(all.String(), sub) {
			t.Errorf("no diagnostic detail contains %q; details:\n%s", sub, all.String())
		}
	}
}

func setSection(ar *txtar.Archive, name, data string) {
	for i, f := range ar.Files {
		if f.Name == name {
			ar.Files[i].Data = []byte(data)
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(data)})
}

// checkSecret renders the diagnostics exactly as the CLI does, without
// masking, and fails if the case's secret appears in them.
func checkSecret(t *testing.T, ar *txtar.Archive, tpl *template.Template, diags hcl.Diagnostics) {
	t.Helper()
	for _, f := range ar.Files {
		if f.Name != "secret" {
			continue
		}
		secret := strings.TrimSpace(string(f.Data))
		var buf strings.Builder
		ui.RenderDiagnostics(&buf, tpl.Files, diags, 100)
		if strings.Contains(buf.String(), secret) {
			t.Errorf("rendered diagnostics contain the sensitive value:\n%s", buf.String())
		}
		if !strings.Contains(strings.Join(tpl.Secrets, "\n"), secret) {
			t.Errorf("Template.Secrets does not list the sensitive value for masking")
		}
	}
}

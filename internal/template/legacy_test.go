package template_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/template"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// TestLoadLegacyJSON loads a legacy JSON template: its builds, variables
// and placeholders become the template's, and the problems the loader
// finds in the converted HCL are reported at the JSON lines.
func TestLoadLegacyJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "template.json")
	src := `{
  "variables": {"region": "us-east-1", "env": "{{env ` + "`STAGE`" + `}}"},
  "builders": [
    {
      "type": "amazon-ebs",
      "name": "web",
      "region": "{{user ` + "`region`" + `}}",
      "source_ami": "ami-0123456789abcdef0",
      "instance_type": "t3.micro",
      "ssh_username": "ec2-user",
      "ami_name": "web-{{user ` + "`env`" + `}}",
      "ami_descripton": "typo",
      "ami_regions": 3
    }
  ],
  "provisioners": [
    {"type": "shell", "inline": ["echo hi"], "inlin": []}
  ]
}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, diags := template.Load(path, template.Options{Getenv: func(k string) string { return map[string]string{"STAGE": "prod"}[k] }})
	var buf bytes.Buffer
	ui.RenderDiagnostics(&buf, tpl.Files, diags, 200)
	text := buf.String()
	for _, want := range []struct{ summary, where, snippet string }{
		{"Unsupported argument", "template.json line 12", `"ami_descripton": "typo"`},
		{"Incorrect attribute value type", "template.json line 13", `"ami_regions": 3`},
		{"Unsupported argument", "template.json line 17", `"inlin": []`},
	} {
		found := false
		for _, d := range diags {
			if d.Summary == want.summary && d.Subject != nil && d.Subject.Filename == path &&
				strings.Contains(text, "on "+path[:len(path)-len("template.json")]+want.where) {
				found = true
			}
		}
		if !found || !strings.Contains(text, want.snippet) {
			t.Errorf("no %q at %s showing %s:\n%s", want.summary, want.where, want.snippet, text)
		}
	}
	if strings.Contains(text, ".pkr.hcl") {
		t.Errorf("diagnostics name the converted HCL:\n%s", text)
	}
	if len(diags) != 3 {
		t.Errorf("want 3 diagnostics, got %d:\n%s", len(diags), text)
	}
}

package template_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imgbuild/imgbuild/internal/template"
)

// TestComponentPathsResolveAgainstWorkDir loads templates/al2023/template.pkr.hcl
// from a repository root, as projects invoke Packer: component paths
// (script, scripts, file source, user_data_file) resolve against the working
// directory, file() and path.root against the template's directory.
func TestComponentPathsResolveAgainstWorkDir(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"templates/al2023/scripts/a.sh": "echo a\n",
		"shared/b.sh":                   "echo b\n",
		"templates/al2023/template.pkr.hcl": `
locals { a = file("scripts/a.sh") }
source "amazon-ebs" "x" {
  region         = "us-east-1"
  source_ami     = "ami-12345678"
  instance_type  = "t3.micro"
  ssh_username   = "ec2-user"
  ami_name       = "x-1"
  user_data_file = "templates/al2023/scripts/a.sh"
}
build {
  sources = ["source.amazon-ebs.x"]
  provisioner "shell" { script = "${path.root}/scripts/a.sh" }
  provisioner "shell" { scripts = ["templates/al2023/scripts/a.sh", "shared/b.sh"] }
  provisioner "file" {
    source      = "shared/b.sh"
    destination = "/tmp/b"
  }
}
`,
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tpl, diags := template.Load(filepath.Join(root, "templates/al2023/template.pkr.hcl"), template.Options{
		WorkDir: root, Getenv: func(string) string { return "" },
	})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	if got := tpl.Locals["a"].Value.AsString(); got != "echo a\n" {
		t.Errorf("file() read %q, want the template-relative scripts/a.sh", got)
	}
	if tpl.WorkDir != root {
		t.Errorf("WorkDir = %q, want %q", tpl.WorkDir, root)
	}
}

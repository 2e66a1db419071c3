package runner

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/template"
)

const fingerprintTemplate = `
variable "rev" {
  type    = string
  default = "1"
}
source "amazon-ebs" "lin" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  source_ami    = "ami-12345678"
  ami_name      = "lin-${formatdate("YYYYMMDDhhmmss", timestamp())}"
  tags          = { Built = timestamp() }
}
source "amazon-ebs" "win" {
  region         = "us-east-1"
  instance_type  = "t3.micro"
  communicator   = "winrm"
  winrm_username = "Administrator"
  source_ami     = "ami-12345678"
  ami_name       = "win-${formatdate("YYYYMMDDhhmmss", timestamp())}"
}
build {
  sources = ["source.amazon-ebs.lin"]
  provisioner "shell" {
    inline = ["echo ${var.rev}"]
  }
  provisioner "shell" {
    script = "s.sh"
  }
  provisioner "file" {
    source      = "files"
    destination = "/tmp/files"
  }
}
build {
  name    = "w"
  sources = ["source.amazon-ebs.win"]
  provisioner "powershell" {
    inline = ["Write-Output ${var.rev}"]
  }
  provisioner "windows-shell" {
    inline = ["echo 1"]
  }
}
`

// fingerprints loads the template in dir at now and returns every build's
// fingerprint.
func fingerprints(t *testing.T, dir string, now time.Time, vars ...string) map[string]string {
	t.Helper()
	tp, diags := template.Load(dir, template.Options{Now: now, Vars: vars, Getenv: func(string) string { return "" }, WorkDir: dir})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, err := plan.New(tp, plan.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, bp := range p.Builds {
		fp, err := Fingerprint(bp, "ami-12345678", "", tp.Dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[bp.Name] = fp
	}
	return out
}

// TestFingerprintStableAcrossRuns: loading the same template at another
// time (names and tags with timestamp(), provisioners' random remote
// file names) gives the same fingerprints; a changed variable used by a
// provisioner, or a changed file, changes them.
func TestFingerprintStableAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"t.pkr.hcl": fingerprintTemplate, "s.sh": "echo s\n", "files/a.txt": "a",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	first := fingerprints(t, dir, t0)
	if len(first) != 2 {
		t.Fatalf("fingerprints %v", first)
	}
	if again := fingerprints(t, dir, t0.Add(24*time.Hour)); again["amazon-ebs.lin"] != first["amazon-ebs.lin"] ||
		again["w.amazon-ebs.win"] != first["w.amazon-ebs.win"] {
		t.Fatalf("the same template a day later: %v, was %v", again, first)
	}
	if v2 := fingerprints(t, dir, t0, "rev=2"); v2["amazon-ebs.lin"] == first["amazon-ebs.lin"] ||
		v2["w.amazon-ebs.win"] == first["w.amazon-ebs.win"] {
		t.Errorf("a changed variable kept the fingerprints: %v", v2)
	}
	if err := os.WriteFile(filepath.Join(dir, "files/a.txt"), []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f := fingerprints(t, dir, t0); f["amazon-ebs.lin"] == first["amazon-ebs.lin"] || f["w.amazon-ebs.win"] != first["w.amazon-ebs.win"] {
		t.Errorf("a changed uploaded file: %v, was %v", f, first)
	}
}

package template_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/template"
)

// markingEvaluator answers every data source as amazon-parameterstore
// does for a decrypted SecureString: the value marked sensitive.
type markingEvaluator struct{ secret string }

func (e markingEvaluator) Evaluate(*template.DataSource) (cty.Value, error) {
	return cty.ObjectVal(map[string]cty.Value{
		"value":   cty.StringVal(e.secret).Mark(hcl2spec.SensitiveMark),
		"version": cty.StringVal("1"),
		"arn":     cty.StringVal("arn:aws:ssm:us-east-1:1:parameter/db"),
	}), nil
}

// TestSecretsCollected loads a template whose source sets attributes
// tagged sensitive and reads a SecureString: every secret value is listed
// in Template.Secrets for masking, and the data source's value reaches
// the template unmarked.
func TestSecretsCollected(t *testing.T) {
	src := `
data "amazon-parameterstore" "db" {
  region          = "us-east-1"
  name            = "/db/password"
  with_decryption = true
}
locals {
  db = data.amazon-parameterstore.db.value
}
` + strings.Replace(minimalSource, `ssh_username  = "ec2-user"`,
		`ssh_username  = "ec2-user"
  access_key    = "AKIAEXAMPLE"
  secret_key    = "wJalrXUtnFEMI-example"
  ssh_password  = "ssh-example-pass"`, 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.pkr.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, diags := template.Load(dir, template.Options{
		Evaluator: markingEvaluator{secret: "db-s3cr3t-value"},
		Getenv:    func(string) string { return "" },
	})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, want := range []string{"wJalrXUtnFEMI-example", "ssh-example-pass", "db-s3cr3t-value"} {
		if !slices.Contains(tpl.Secrets, want) {
			t.Errorf("Template.Secrets %q does not list %q", tpl.Secrets, want)
		}
	}
	if v := tpl.Locals["db"].Value; v.IsMarked() || v.AsString() != "db-s3cr3t-value" {
		t.Errorf("local.db = %#v, want the unmarked value", v)
	}
}

package registry

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/hcl2spec"
)

// decode decodes src with comp's spec into a new Config, as the template
// loader does.
func decode(t *testing.T, comp Component, src string) Config {
	t.Helper()
	val, diags := hcldec.Decode(parse(t, src), comp.Spec, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg := comp.New()
	if err := hcl2spec.Decode(val, cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSensitiveValues(t *testing.T) {
	tests := []struct {
		typ, src string
		want     []string
	}{
		{"amazon-ebs", `
region         = "us-east-1"
ami_name       = "x"
instance_type  = "t3.micro"
access_key     = "AKIAEXAMPLE"
secret_key     = "wJalrXUtnFEMI/K7MDENG"
token          = "FwoGZXIvYXdzE"
ssh_password   = "ssh-pass"
winrm_password = "winrm-pass"
assume_role {
  role_arn = "arn:aws:iam::1:role/x"
}
`, []string{"AKIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "FwoGZXIvYXdzE", "ssh-pass", "winrm-pass"}},
		{"powershell", `
inline            = ["whoami"]
elevated_password = "elevated-pass"
`, []string{"elevated-pass"}},
		{"amazon-parameterstore", `
region     = "us-east-1"
name       = "/x"
secret_key = "ds-secret"
`, []string{"ds-secret"}},
		{"shell", `inline = ["echo hi"]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			got := SensitiveValues(decode(t, mustFind(t, tt.typ), tt.src))
			slices.Sort(got)
			slices.Sort(tt.want)
			if !slices.Equal(got, tt.want) {
				t.Errorf("SensitiveValues = %q, want %q", got, tt.want)
			}
		})
	}
	if got := SensitiveValues(nil); got != nil {
		t.Errorf("SensitiveValues(nil) = %q", got)
	}
}

// secretName matches attribute names that usually hold a secret.
var secretName = regexp.MustCompile(`password|secret|token|private_key$|mfa_code|credential$`)

// notSecret are attributes whose names look secret but hold none.
var notSecret = map[string]bool{
	"windows_password_timeout": true, // a duration
	"admin_password":           true, // sysprep: "random" or "keep"
	"http_tokens":              true, // metadata option: "required" or "optional"
}

// TestSecretAttributesAreSensitive fails when an attribute whose name says
// it holds a secret is not tagged sensitive:"true", so its value would
// reach the output unmasked.
func TestSecretAttributesAreSensitive(t *testing.T) {
	for _, c := range components {
		sensitive := SensitiveAttrs(c)
		for _, path := range attrPaths(t, configType(c), "") {
			name := path[strings.LastIndex(path, ".")+1:]
			if secretName.MatchString(name) && !notSecret[name] && !slices.Contains(sensitive, path) {
				t.Errorf("%s %s: attribute %s looks secret but is not tagged sensitive:\"true\"", c.Kind, c.Type, path)
			}
		}
	}
}

// TestUnmarkSensitive checks that a data source's marked output is
// unmarked for the template, its secrets listed, and other marks kept.
func TestUnmarkSensitive(t *testing.T) {
	v := cty.ObjectVal(map[string]cty.Value{
		"value":   cty.StringVal("decrypted").Mark(hcl2spec.SensitiveMark),
		"list":    cty.ListVal([]cty.Value{cty.StringVal("a1b2"), cty.StringVal("c3d4")}).Mark(hcl2spec.SensitiveMark),
		"version": cty.StringVal("3").Mark("other"),
		"arn":     cty.StringVal("arn:aws:ssm:x"),
	})
	got, secrets := UnmarkSensitive(v)
	slices.Sort(secrets)
	if !slices.Equal(secrets, []string{"a1b2", "c3d4", "decrypted"}) {
		t.Errorf("secrets %q", secrets)
	}
	if got.GetAttr("value").IsMarked() || got.GetAttr("list").IsMarked() {
		t.Error("hcl2spec.SensitiveMark left on the value")
	}
	if !got.GetAttr("version").HasMark("other") {
		t.Error("another mark was removed")
	}
	if !v.GetAttr("value").HasMark(hcl2spec.SensitiveMark) {
		t.Error("the input value lost its mark")
	}
	if _, secrets := UnmarkSensitive(cty.StringVal("plain")); len(secrets) != 0 {
		t.Errorf("an unmarked value gave secrets %q", secrets)
	}
}

// attrPaths lists the attributes of Config type t as SensitiveAttrs names
// them ("block.attr" inside blocks).
func attrPaths(t *testing.T, typ reflect.Type, prefix string) []string {
	t.Helper()
	fields, err := hcl2spec.Fields(typ)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fields {
		if f.Block {
			out = append(out, attrPaths(t, f.BlockStruct(), prefix+f.Name+".")...)
			continue
		}
		out = append(out, prefix+f.Name)
	}
	return out
}

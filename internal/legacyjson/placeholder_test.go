package legacyjson

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestConvertString checks each placeholder's HCL form.
func TestConvertString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    where
		want string
	}{
		{"plain ${x} %{y}", inSource, `"plain $${x} %%{y}"`},
		{"{{user `region`}}", inSource, `var.region`},
		{"{{user `computed`}}", inSource, `local.computed`},
		{"{{ user \"region\" }}-x", inSource, `"${var.region}-x"`},
		{"{{env `HOME`}}", inVariable, `env("HOME")`},
		{"a-{{timestamp}}", inSource, `"a-${local.timestamp}"`},
		{"{{isotime}}", inSource, `timestamp()`},
		{"{{isotime `2006-01-02`}}", inSource, `legacy_isotime("2006-01-02")`},
		{"{{strftime `%Y`}}", inSource, `legacy_strftime("%Y")`},
		{"{{uuid}}", inSource, `uuidv4()`},
		{"{{template_dir}}/x", inBuild, `"${path.root}/x"`},
		{"{{pwd}}", inBuild, `path.cwd`},
		{"{{packer_version}}", inBuild, `packer.version`},
		{"{{build_name}}", inSource, `"web"`},
		{"{{build_type}}/{{build_name}}", inBuild, `"${source.type}/${source.name}"`},
		{"{{build `ID`}}", inBuild, `build.ID`},
		{"{{isotime | clean_resource_name}}", inSource, `regex_replace(timestamp(), "[^a-zA-Z0-9()\\[\\] ./'@_-]", "-")`},
		{"{{lower (user `region`)}}", inSource, `lower(var.region)`},
		{"{{user `region` | upper}}", inSource, `upper(var.region)`},
		{"{{split `a-b` `-` 1}}", inSource, `element(split("-", "a-b"), 1)`},
		{"{{replace_all `a` `b` `aaa`}}", inSource, `replace("aaa", "a", "b")`},
		{"{{ .SourceAMIName }}", inSource, `"{{.SourceAMIName}}"`},
		{"{{ .SourceAMIName | clean_resource_name }}", inSource, `"{{.SourceAMIName | clean_resource_name}}"`},
		{"say \"hi\"\n", inBuild, `"say \"hi\"\n"`},
		{"{{user `x`}}", inLiteral, "\"{{user `x`}}\""},
	} {
		c := &converter{locals: map[string]bool{"computed": true}, userRefs: map[string]hcl.Range{},
			current: &builder{typ: "amazon-ebs", legacyName: "web"}}
		got := c.convertString(tc.in, hcl.Range{Filename: "t.json"}, tc.w)
		if got != tc.want || c.diags.HasErrors() {
			t.Errorf("%q: got %s, want %s (%v)", tc.in, got, tc.want, c.diags)
		}
	}
}

// TestConvertStringErrors checks the placeholders that are refused.
func TestConvertStringErrors(t *testing.T) {
	for in, summary := range map[string]string{
		"{{nosuch}}":                  "Invalid template placeholder",
		"{{user `x`":                  "Invalid template placeholder",
		"{{env `HOME`}}":              "env not allowed here",
		"{{build `ID`}}":              "build not allowed here",
		"{{vault `a` `b`}}":           "Unsupported template function",
		"{{replace `a` `b` 1 `aaa`}}": "Unsupported template placeholder",
		"{{if true}}x{{end}}":         "Invalid template placeholder",
		"{{ .SourceAMIName | user }}": "Unsupported template placeholder",
		"{{user}}":                    "Invalid template placeholder",
	} {
		c := &converter{locals: map[string]bool{}, userRefs: map[string]hcl.Range{}}
		c.convertString(in, hcl.Range{Filename: "t.json"}, inSource)
		if len(c.diags) == 0 || c.diags[0].Summary != summary {
			t.Errorf("%q: got %v, want %q", in, c.diags, summary)
		}
	}
}

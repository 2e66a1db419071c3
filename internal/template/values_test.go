package template_test

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/tools/txtar"
)

const minimalSource = `
source "amazon-ebs" "al" {
  region        = "us-east-1"
  source_ami    = "ami-0123456789abcdef0"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "test-{{timestamp}}"
}

build {
  sources = ["source.amazon-ebs.al"]
}
`

func archive(files map[string]string, args ...string) *txtar.Archive {
	ar := &txtar.Archive{}
	for name, data := range files {
		ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(data)})
	}
	if len(args) > 0 {
		ar.Files = append(ar.Files, txtar.File{Name: "args", Data: []byte(strings.Join(args, "\n"))})
	}
	return ar
}

func TestVariablePrecedence(t *testing.T) {
	decl := `variable "v" {
  type    = string
  default = "default"
}
` + minimalSource
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  string
		from  string
	}{
		{"default", nil, nil, "default", "default"},
		{"PKR_VAR", nil, []string{"env PKR_VAR_v=pkr"}, "pkr", "env"},
		{"IMGBUILD_VAR over PKR_VAR", nil, []string{"env PKR_VAR_v=pkr", "env IMGBUILD_VAR_v=imgbuild"}, "imgbuild", "env"},
		{"auto var file over env", map[string]string{"x.auto.pkrvars.hcl": `v = "auto"`}, []string{"env IMGBUILD_VAR_v=imgbuild"}, "auto", "var-file"},
		{"-var-file over auto", map[string]string{"x.auto.pkrvars.hcl": `v = "auto"`, "y.pkrvars.hcl": `v = "file"`}, []string{"-var-file y.pkrvars.hcl"}, "file", "var-file"},
		{"later -var-file wins", map[string]string{"a.pkrvars.hcl": `v = "a"`, "b.pkrvars.json": `{"v": "b"}`}, []string{"-var-file a.pkrvars.hcl", "-var-file b.pkrvars.json"}, "b", "var-file"},
		{"-var over everything", map[string]string{"y.pkrvars.hcl": `v = "file"`}, []string{"-var-file y.pkrvars.hcl", "-var v=flag", "env PKR_VAR_v=pkr"}, "flag", "-var"},
		{"last -var wins", nil, []string{"-var v=one", "-var v=two"}, "two", "-var"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.pkr.hcl": decl}
			for k, v := range tt.files {
				files[k] = v
			}
			_, tpl, diags := loadCase(t, archive(files, tt.args...))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			v := tpl.Variables["v"]
			if got := v.Value.AsString(); got != tt.want || v.ValueFrom != tt.from {
				t.Errorf("v = %q from %s, want %q from %s", got, v.ValueFrom, tt.want, tt.from)
			}
		})
	}
}

func TestTypedVariablesFromStrings(t *testing.T) {
	decl := `variable "sizes" {
  type    = list(number)
  default = []
}
variable "enabled" {
  type    = bool
  default = false
}
variable "tags" {
  type = object({ team = string, tier = optional(string, "gold") })
  default = { team = "x" }
}
` + minimalSource
	_, tpl, diags := loadCase(t, archive(map[string]string{"main.pkr.hcl": decl},
		"-var sizes=[8, 16]", "env PKR_VAR_enabled=true"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := tpl.Variables["sizes"].Value; !got.Equals(cty.ListVal([]cty.Value{cty.NumberIntVal(8), cty.NumberIntVal(16)})).True() {
		t.Errorf("sizes = %#v", got)
	}
	if !tpl.Variables["enabled"].Value.True() {
		t.Errorf("enabled not true")
	}
	if got := tpl.Variables["tags"].Value.GetAttr("tier").AsString(); got != "gold" {
		t.Errorf("optional default not applied: tier = %q", got)
	}
}

func TestLocalsAndFunctions(t *testing.T) {
	src := `variable "env" {
  default = "prod"
}
locals {
  # refers to a local declared later: evaluation follows dependencies
  name   = "${local.prefix}-${var.env}"
  prefix = upper("base")
  tags   = merge({ a = "1" }, { b = "2" }, { a = "3" })
  stamp  = formatdate("YYYY-MM-DD", timestamp())
  yaml   = yamlencode({ k = "v" })
  json   = jsonencode({ k = [1, 2] })
  b64    = base64encode("hi")
  parts  = split(",", "a,b,c")
  found  = contains(local.parts, "b")
  lookup = lookup(local.tags, "b", "none")
  rng    = range(3)
  joined = join("-", concat(["x"], ["y"]))
  re     = regex("[0-9]+", "ami-123abc")
  repl   = replace("a.b.c", ".", "_")
  fmt    = format("%s-%03d", "img", 7)
  file   = trimspace(file("motd.txt"))
  exists = fileexists("motd.txt")
  tpl    = templatefile("greet.tpl", { who = "world" })
  id     = length(uuidv4())
  sha    = sha256("x")
  coal   = coalesce(["", "b"]...)
}
local "secret" {
  expression = "s3cr3t-${var.env}"
  sensitive  = true
}
` + minimalSource
	_, tpl, diags := loadCase(t, archive(map[string]string{
		"main.pkr.hcl": src, "motd.txt": "hello\n", "greet.tpl": "hello ${who}",
	}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := map[string]string{
		"name": "BASE-prod", "stamp": "2026-11-10", "yaml": "\"k\": \"v\"\n", "json": `{"k":[1,2]}`,
		"b64": "aGk=", "lookup": "2", "joined": "x-y", "re": "123", "repl": "a_b_c", "fmt": "img-007",
		"file": "hello", "tpl": "hello world",
		"sha":  "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
		"coal": "b",
	}
	for name, w := range want {
		if got := tpl.Locals[name].Value.AsString(); got != w {
			t.Errorf("local.%s = %q, want %q", name, got, w)
		}
	}
	if !tpl.Locals["found"].Value.True() || !tpl.Locals["exists"].Value.True() {
		t.Errorf("contains/fileexists not true")
	}
	if got := tpl.Locals["tags"].Value.GetAttr("a").AsString(); got != "3" {
		t.Errorf("merge: later maps must win, a = %q", got)
	}
	if n, _ := tpl.Locals["id"].Value.AsBigFloat().Int64(); n != 36 {
		t.Errorf("uuidv4 length %d", n)
	}
	if !strings.Contains(strings.Join(tpl.Secrets, ","), "s3cr3t-prod") {
		t.Errorf("sensitive local not collected for masking: %v", tpl.Secrets)
	}
}

func TestDataSourcePlaceholders(t *testing.T) {
	src := `data "amazon-ami" "base" {
  region = "us-east-1"
  filters = {
    name = "al2023-ami-*"
  }
  owners      = ["amazon"]
  most_recent = true
}
data "amazon-parameterstore" "latest" {
  region = "us-east-1"
  name   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}
locals {
  from_ami = data.amazon-ami.base.id
  from_ssm = data.amazon-parameterstore.latest.value
}
` + strings.Replace(minimalSource, `"ami-0123456789abcdef0"`, "local.from_ami", 1)
	_, tpl, diags := loadCase(t, archive(map[string]string{"main.pkr.hcl": src}))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, name := range []string{"from_ami", "from_ssm"} {
		if got := tpl.Locals[name].Value.AsString(); !strings.HasPrefix(got, "ami-") {
			t.Errorf("local.%s = %q, want an ami- placeholder", name, got)
		}
	}
	if tpl.Data["amazon-ami.base"].Evaluated {
		t.Errorf("data source evaluated without an evaluator")
	}
}

// TestEnvInVariableDefault: as in Packer, env("NAME") may give a
// variable's default (empty when unset), and nowhere else.
func TestEnvInVariableDefault(t *testing.T) {
	decl := `variable "cert" {
  type    = string
  default = env("CERT_PATH")
}
variable "none" {
  type    = string
  default = env("UNSET_NAME")
}
` + minimalSource
	_, tpl, diags := loadCase(t, archive(map[string]string{"main.pkr.hcl": decl}, "env CERT_PATH=/tmp/ec2.pem"))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := tpl.Variables["cert"].Value.AsString(); got != "/tmp/ec2.pem" {
		t.Errorf("cert = %q", got)
	}
	if got := tpl.Variables["none"].Value.AsString(); got != "" {
		t.Errorf("none = %q", got)
	}
	_, _, diags = loadCase(t, archive(map[string]string{"main.pkr.hcl": minimalSource + "\nlocals {\n  x = env(\"CERT_PATH\")\n}\n"}))
	if !diags.HasErrors() {
		t.Error("env() accepted in a local")
	}
}

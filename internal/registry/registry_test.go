package registry

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/check"
)

func parse(t *testing.T, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "t.pkr.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return f.Body
}

func configType(c Component) reflect.Type {
	return reflect.TypeOf(c.New()).Elem()
}

// TestEmptyBodyRequiresExactlyRequired decodes an empty body with every
// spec: the diagnostics name exactly the attributes tagged required.
func TestEmptyBodyRequiresExactlyRequired(t *testing.T) {
	for _, c := range components {
		t.Run(string(c.Kind)+"/"+c.Type, func(t *testing.T) {
			fields, err := hcl2spec.Fields(configType(c))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range fields {
				if f.Required {
					want = append(want, f.Name)
				}
			}
			_, diags := hcldec.Decode(parse(t, ""), c.Spec, nil)
			var got []string
			for _, d := range diags {
				if d.Summary != "Missing required argument" {
					t.Errorf("unexpected diagnostic %q", d.Summary)
				}
				got = append(got, strings.Split(d.Detail, `"`)[1])
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("missing arguments reported %v, want %v", got, want)
			}
		})
	}
}

func TestRequiredAttributes(t *testing.T) {
	want := map[string][]string{
		// region is optional: the environment or the shared config
		// profile may give it (amazon.AccessConfig.PrepareRegion)
		"amazon-ebs":            {"ami_name"},
		"amazon-instance":       {"account_id", "ami_name", "s3_bucket", "x509_cert_path", "x509_key_path"},
		"file":                  {"destination"},
		"amazon-parameterstore": {"name"},
		"amazon-ami":            nil,
		"shell":                 nil,
		"manifest":              nil,
	}
	for typ, attrs := range want {
		t.Run(typ, func(t *testing.T) {
			c := mustFind(t, typ)
			fields, _ := hcl2spec.Fields(configType(c))
			var got []string
			for _, f := range fields {
				if f.Required {
					got = append(got, f.Name)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, attrs) {
				t.Errorf("required = %v, want %v", got, attrs)
			}
		})
	}
}

func mustFind(t *testing.T, typ string) Component {
	t.Helper()
	for _, c := range components {
		if c.Type == typ {
			return c
		}
	}
	t.Fatalf("no component %q", typ)
	return Component{}
}

func TestComponentsAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range components {
		t.Run(string(c.Kind)+"/"+c.Type, func(t *testing.T) {
			key := string(c.Kind) + "/" + c.Type
			if seen[key] {
				t.Errorf("duplicate component")
			}
			seen[key] = true
			cfg := c.New()
			if cfg == nil || reflect.TypeOf(cfg).Kind() != reflect.Pointer {
				t.Fatalf("New() = %T, want a pointer to a Config", cfg)
			}
			if cfg == c.New() {
				t.Error("New() returns a shared Config")
			}
			if got, ok := Lookup(c.Kind, c.Type); !ok || got.Type != c.Type {
				t.Error("Lookup does not find the component")
			}
			if (c.Kind == DataSource) != (c.Output != cty.NilType) {
				t.Errorf("Output = %#v; data sources and only they have an output type", c.Output)
			}
		})
	}
	if _, ok := Lookup(Builder, "shell"); ok {
		t.Error("Lookup found a provisioner as a builder")
	}
	if got := Types(Provisioner); !slices.Equal(got, []string{"file", "powershell", "shell", "shell-local", "sysprep", "windows-restart", "windows-shell"}) {
		t.Errorf("Types(Provisioner) = %v", got)
	}
}

func TestSensitiveAttrs(t *testing.T) {
	got := SensitiveAttrs(mustFind(t, "amazon-ebs"))
	want := []string{"access_key", "secret_key", "token", "mfa_code", "ssh_password", "ssh_bastion_password", "ssh_proxy_password", "winrm_password"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("SensitiveAttrs(amazon-ebs) = %v, want %v", got, want)
	}
	if got := SensitiveAttrs(mustFind(t, "powershell")); !slices.Equal(got, []string{"elevated_password"}) {
		t.Errorf("SensitiveAttrs(powershell) = %v", got)
	}
	if got := SensitiveAttrs(mustFind(t, "manifest")); len(got) != 0 {
		t.Errorf("SensitiveAttrs(manifest) = %v, want none", got)
	}
}

// minimalBodies are a minimal valid body of every component; the files
// they name exist in minimalDir.
var minimalBodies = map[string]string{
	"amazon-ebs":             minimalEBS,
	"amazon-instance":        minimalEBS + "\naccount_id = \"1234-5678-9012\"\ns3_bucket = \"bundles\"\nx509_cert_path = \"cert.pem\"\nx509_key_path = \"key.pem\"",
	"amazon-ebssurrogate":    minimalEBS + minimalSurrogate,
	"shell":                  `script = "setup.sh"`,
	"file":                   `source = "setup.sh"` + "\n" + `destination = "/tmp/setup.sh"`,
	"shell-local":            `command = "echo hi"`,
	"powershell":             `inline = ["Write-Host hi"]`,
	"windows-restart":        ``,
	"windows-shell":          `inline = ["echo hi"]`,
	"sysprep":                ``,
	"manifest":               ``,
	"amazon-ssm-parameter":   `name = "/images/app/latest"`,
	"amazon-launch-template": `launch_template_name = "app"`,
	"retention":              `keep = 3`,
	"amazon-ami":             `region = "us-east-1"` + "\n" + `filters = { name = "ubuntu/*" }` + "\n" + `owners = ["self"]`,
	"amazon-parameterstore":  `region = "us-east-1"` + "\n" + `name = "/x"`,
	"http":                   `url = "https://example.com/version"`,
}

// minimalSurrogate is what amazon-ebssurrogate needs beyond minimalEBS.
const minimalSurrogate = `
ami_virtualization_type = "hvm"
launch_block_device_mappings {
  device_name = "/dev/xvdf"
  volume_size = 8
}
ami_root_device {
  source_device_name = "/dev/xvdf"
  device_name        = "/dev/xvda"
}`

const minimalEBS = `region = "us-east-1"
ami_name = "web-{{timestamp}}"
instance_type = "t3.micro"
source_ami = "ami-0123456789abcdef0"
ssh_username = "ubuntu"`

// minimalDir returns a directory holding the files minimalBodies name.
func minimalDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	for f, data := range map[string][]byte{
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}),
		"setup.sh": []byte("x"),
	} {
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestMinimalConfigsPrepare runs the engine's path on a minimal valid
// body of every component: decode, hcl2spec.Decode, Prepare. A component
// refused whole reports that refusal and nothing else.
func TestMinimalConfigsPrepare(t *testing.T) {
	dir := minimalDir(t)
	for _, c := range components {
		t.Run(c.Type, func(t *testing.T) {
			src, ok := minimalBodies[c.Type]
			if !ok {
				t.Fatal("no minimal body for this component; add one")
			}
			body := parse(t, src)
			val, diags := hcldec.Decode(body, c.Spec, nil)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			cfg := c.New()
			if err := hcl2spec.Decode(val, cfg); err != nil {
				t.Fatal(err)
			}
			ctx := &check.Context{Fields: check.BodyFields(body), BaseDir: dir}
			cfg.Prepare(ctx)
			diags = ctx.Diags
			if refused, ok := refusedComponents[string(c.Kind)+"/"+c.Type]; ok {
				if len(diags) == 0 {
					t.Fatalf("Prepare accepts %s, which validate must refuse", refused)
				}
				if name, _ := check.UnimplementedName(diags[0]); name != refused {
					t.Fatalf("first diagnostic %v, want %s refused", diags[0], refused)
				}
				diags = diags[1:]
			}
			if diags.HasErrors() {
				t.Errorf("Prepare: %v", fmt.Sprint(diags))
			}
		})
	}
}

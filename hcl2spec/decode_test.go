package hcl2spec_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/builders/amazon/ebs"
	"github.com/imgbuild/imgbuild/hcl2spec"
)

type inner struct {
	Name  string            `hcl:"name"`
	Count int               `hcl:"count"`
	Tags  map[string]string `hcl:"tags"`
}

type embedded struct {
	Flag bool `hcl:"flag"`
}

type sample struct {
	embedded
	Str     string            `hcl:"str"`
	Int     int               `hcl:"int"`
	Uint8   uint8             `hcl:"uint8"`
	Float   float64           `hcl:"float"`
	Ptr     *bool             `hcl:"ptr"`
	List    []string          `hcl:"list"`
	Codes   []int             `hcl:"codes"`
	Map     map[string]string `hcl:"map"`
	Block   inner             `hcl:"block,block"`
	PBlock  *inner            `hcl:"pblock,block"`
	Blocks  []inner           `hcl:"blocks,block"`
	Ignored string            `hcl:"-"`
	private string
}

func TestDecode(t *testing.T) {
	val := cty.ObjectVal(map[string]cty.Value{
		"flag":   cty.True,
		"str":    cty.StringVal("s").Mark("sensitive"),
		"int":    cty.NumberIntVal(-3),
		"uint8":  cty.NumberIntVal(200),
		"float":  cty.NumberFloatVal(1.5),
		"ptr":    cty.False,
		"list":   cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		"codes":  cty.ListVal([]cty.Value{cty.NumberIntVal(0), cty.NumberIntVal(3010)}),
		"map":    cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")}),
		"block":  cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("n"), "count": cty.NumberIntVal(2), "tags": cty.NullVal(cty.Map(cty.String))}),
		"pblock": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("p"), "count": cty.NullVal(cty.Number), "tags": cty.MapValEmpty(cty.String)}),
		"blocks": cty.ListVal([]cty.Value{
			cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("x"), "count": cty.NumberIntVal(1), "tags": cty.MapVal(map[string]cty.Value{"a": cty.StringVal("b")})}),
			cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("y"), "count": cty.NumberIntVal(2), "tags": cty.NullVal(cty.Map(cty.String))}),
		}),
	})
	var got sample
	got.Ignored = "kept"
	got.private = "kept"
	if err := hcl2spec.Decode(val, &got); err != nil {
		t.Fatal(err)
	}
	f := false
	want := sample{
		embedded: embedded{Flag: true}, Str: "s", Int: -3, Uint8: 200, Float: 1.5, Ptr: &f,
		List: []string{"a", "b"}, Codes: []int{0, 3010}, Map: map[string]string{"k": "v"},
		Block:   inner{Name: "n", Count: 2},
		PBlock:  &inner{Name: "p", Tags: map[string]string{}},
		Blocks:  []inner{{Name: "x", Count: 1, Tags: map[string]string{"a": "b"}}, {Name: "y", Count: 2}},
		Ignored: "kept",
		private: "kept",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDecodeNullAndUnknownLeaveZero(t *testing.T) {
	val := cty.ObjectVal(map[string]cty.Value{
		"str":    cty.UnknownVal(cty.String),
		"int":    cty.NullVal(cty.Number),
		"ptr":    cty.NullVal(cty.Bool),
		"list":   cty.ListVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String)}),
		"pblock": cty.NullVal(cty.EmptyObject),
	})
	got := sample{Int: 7}
	if err := hcl2spec.Decode(val, &got); err != nil {
		t.Fatal(err)
	}
	if got.Str != "" || got.Int != 7 || got.Ptr != nil || got.PBlock != nil || !slices.Equal(got.List, []string{"a", ""}) {
		t.Errorf("Decode = %+v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		val  cty.Value
		path string
	}{
		{"fraction into int", cty.ObjectVal(map[string]cty.Value{"int": cty.NumberFloatVal(1.5)}), "int"},
		{"overflow uint8", cty.ObjectVal(map[string]cty.Value{"uint8": cty.NumberIntVal(256)}), "uint8"},
		{"negative uint8", cty.ObjectVal(map[string]cty.Value{"uint8": cty.NumberIntVal(-1)}), "uint8"},
		{"string into bool", cty.ObjectVal(map[string]cty.Value{"flag": cty.StringVal("maybe")}), "flag"},
		{"nested", cty.ObjectVal(map[string]cty.Value{"blocks": cty.ListVal([]cty.Value{
			cty.ObjectVal(map[string]cty.Value{"count": cty.NumberFloatVal(0.5)})})}), "blocks.0.count"},
		{"not a list", cty.ObjectVal(map[string]cty.Value{"list": cty.StringVal("a")}), "list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sample
			err := hcl2spec.Decode(tt.val, &got)
			var pe *hcl2spec.PathError
			if !errors.As(err, &pe) || strings.Join(pe.Path, ".") != tt.path {
				t.Errorf("Decode error = %v, want a PathError at %s", err, tt.path)
			}
		})
	}
	if err := hcl2spec.Decode(cty.EmptyObjectVal, sample{}); err == nil {
		t.Error("Decode into a non-pointer succeeded")
	}
}

func TestDecodeConvertsLikeHCL(t *testing.T) {
	val := cty.ObjectVal(map[string]cty.Value{"str": cty.NumberIntVal(5), "flag": cty.StringVal("true"), "int": cty.StringVal("42")})
	var got sample
	if err := hcl2spec.Decode(val, &got); err != nil {
		t.Fatal(err)
	}
	if got.Str != "5" || !got.Flag || got.Int != 42 {
		t.Errorf("Decode = %+v", got)
	}
}

// TestDecodeEBS decodes a real template body with the generated spec.
func TestDecodeEBS(t *testing.T) {
	src := `
region        = "us-east-1"
ami_name      = "web-{{timestamp}}"
instance_type = "t3.micro"
ami_regions   = ["eu-west-1"]
ssh_username  = "ubuntu"
ssh_port      = 2222
encrypt_boot  = true
tags = { Name = "{{ .SourceAMIName }}" }
source_ami_filter {
  filters     = { name = "ubuntu/*" }
  owners      = ["099720109477"]
  most_recent = true
}
launch_block_device_mappings {
  device_name = "/dev/sda1"
  volume_size = 20
}
timeouts {
  image_available = "2h"
}
`
	f, diags := hclsyntax.ParseConfig([]byte(src), "t.pkr.hcl", hclsyntaxPos())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	val, diags := hcldec.Decode(f.Body, hcl2spec.AmazonEBS, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var c ebs.Config
	if err := hcl2spec.Decode(val, &c); err != nil {
		t.Fatal(err)
	}
	switch {
	case c.Region != "us-east-1", c.AMIName != "web-{{timestamp}}", c.SSHUsername != "ubuntu", c.SSHPort != 2222:
		t.Errorf("scalars: %+v", c)
	case c.AMIEncryptBootVolume == nil || !*c.AMIEncryptBootVolume:
		t.Error("encrypt_boot not decoded")
	case c.SourceAMIFilter.Filters["name"] != "ubuntu/*" || !c.SourceAMIFilter.MostRecent:
		t.Errorf("source_ami_filter: %+v", c.SourceAMIFilter)
	case len(c.LaunchBlockDevices) != 1 || c.LaunchBlockDevices[0].VolumeSize != 20:
		t.Errorf("launch_block_device_mappings: %+v", c.LaunchBlockDevices)
	case c.Timeouts.ImageAvailable != "2h" || c.Tags["Name"] != "{{ .SourceAMIName }}":
		t.Errorf("timeouts/tags: %+v %v", c.Timeouts, c.Tags)
	}
}

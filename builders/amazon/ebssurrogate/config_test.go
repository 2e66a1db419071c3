package ebssurrogate

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/check"
)

// valid returns a configuration Prepare accepts: a surrogate with a
// launch volume /dev/xvdf that becomes the image's /dev/xvda.
func valid() Config {
	var c Config
	c.Region, c.AMIName, c.InstanceType, c.SourceAMI, c.SSHUsername = "us-east-1", "img-{{timestamp}}", "t3.micro", "ami-12345678", "u"
	c.AMIVirtType = "hvm"
	c.LaunchMappings = []BlockDevice{{BlockDevice: amazon.BlockDevice{DeviceName: "/dev/xvdf", VolumeSize: 8, VolumeType: "gp3"}}}
	c.RootDevice = RootDevice{SourceDeviceName: "/dev/xvdf", DeviceName: "/dev/xvda"}
	return c
}

func TestConfig(t *testing.T) {
	scratch := BlockDevice{BlockDevice: amazon.BlockDevice{DeviceName: "/dev/xvdg", VolumeSize: 4}, OmitFromArtifact: true}
	tests := []struct {
		name string
		edit func(*Config)
		want string // summary of the one error; "" for none
	}{
		{"valid", func(*Config) {}, ""},
		{"omitted scratch volume", func(c *Config) { c.LaunchMappings = append(c.LaunchMappings, scratch) }, ""},
		{"uefi on arm64", func(c *Config) { c.Architecture, c.UefiData = "arm64", "QUJD" }, ""},
		{"uefi with uefi boot", func(c *Config) { c.BootMode, c.UefiData = "uefi", "QUJD" }, ""},
		{"root settings", func(c *Config) { c.RootDevice.VolumeSize, c.RootDevice.IOPS, c.RootDevice.VolumeType = 16, 4000, "io2" }, ""},
		{"no ami_root_device", func(c *Config) { c.RootDevice = RootDevice{} }, "Missing ami_root_device block"},
		{"no root device name", func(c *Config) { c.RootDevice.DeviceName = "" }, "Missing required argument"},
		{"root source not launched", func(c *Config) { c.RootDevice.SourceDeviceName = "/dev/sdz" }, "Root source device not launched"},
		{"root source omitted", func(c *Config) { c.LaunchMappings[0].OmitFromArtifact = true }, "Root source device omitted"},
		{"root source instance store", func(c *Config) {
			c.LaunchMappings[0].VirtualName, c.LaunchMappings[0].VolumeSize, c.LaunchMappings[0].VolumeType = "ephemeral0", 0, ""
		}, "Root source device is not an EBS volume"},
		{"root smaller than launch", func(c *Config) { c.RootDevice.VolumeSize = 4 }, "Root volume smaller than its snapshot"},
		{"root iops on gp2", func(c *Config) { c.RootDevice.VolumeType, c.RootDevice.IOPS = "gp2", 3000 }, "iops needs a provisioned volume type"},
		{"root volume type", func(c *Config) { c.RootDevice.VolumeType = "gp9" }, "Invalid value for volume_type"},
		{"launch device named as root", func(c *Config) {
			c.LaunchMappings = append(c.LaunchMappings, BlockDevice{BlockDevice: amazon.BlockDevice{DeviceName: "/dev/xvda", VolumeSize: 20}})
		}, "Launch device takes the root device's name"},
		{"no virtualization type", func(c *Config) { c.AMIVirtType = "" }, "Missing required argument"},
		{"architecture", func(c *Config) { c.Architecture = "sparc" }, "Invalid value for ami_architecture"},
		{"boot mode", func(c *Config) { c.BootMode = "bios" }, "Invalid value for boot_mode"},
		{"tpm", func(c *Config) { c.TPMSupport = "v1.2" }, "Invalid value for tpm_support"},
		{"uefi with legacy bios", func(c *Config) { c.BootMode, c.UefiData = "legacy-bios", "QUJD" }, "uefi_data needs UEFI"},
		{"uefi without boot mode", func(c *Config) { c.UefiData = "QUJD" }, "uefi_data needs UEFI"},
		{"snapshot description", func(c *Config) { c.SnapshotDescription = "{{ .Nope }}" }, "Invalid template in snapshot_description"},
		{"run volume tag", func(c *Config) { c.RunVolumeTag = []NameValue{{Name: "n", Value: "{{ .Nope }}"}} }, "Invalid template in run_volume_tags"},
		{"paravirtual with ena", func(c *Config) { c.AMIVirtType, c.AMIENASupport = "paravirtual", new(true) }, "Enhanced networking needs hvm"},
		{"shared checks run", func(c *Config) { c.SourceAMI = "" }, "Missing source AMI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.want == "" {
				if len(ctx.Diags) != 0 {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || ctx.Diags[0].Severity != hcl.DiagError || !strings.Contains(ctx.Diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one error containing %q", ctx.Diags, tt.want)
			}
		})
	}
}

// TestDefaults: the architecture defaults to x86_64 and run_volume_tag
// blocks join run_volume_tags, which wins on a duplicate name.
func TestDefaults(t *testing.T) {
	c := valid()
	c.RunVolumeTags = map[string]string{"a": "map"}
	c.RunVolumeTag = []NameValue{{Name: "a", Value: "block"}, {Name: "b", Value: "block"}}
	c.Prepare(&check.Context{})
	if c.Architecture != "x86_64" || c.RunVolumeTags["a"] != "map" || c.RunVolumeTags["b"] != "block" {
		t.Errorf("architecture %q, run volume tags %v", c.Architecture, c.RunVolumeTags)
	}
	if c.InstanceInitiatedShutdownBehavior != "stop" || c.Timeouts.ImageAvailable == "" {
		t.Errorf("the shared defaults are not kept: %+v", c.RunConfig)
	}
}

// TestDiagnosticsPointAtTheAttribute decodes a template body and checks
// that the surrogate's own errors point at the attribute to fix, and that
// use_create_image is refused as not implemented at its line.
func TestDiagnosticsPointAtTheAttribute(t *testing.T) {
	src := `region = "us-east-1"
ami_name = "web"
instance_type = "t3.micro"
source_ami = "ami-12345678"
ssh_username = "ec2-user"
ami_virtualization_type = "hvm"
launch_block_device_mappings {
  device_name = "/dev/xvdf"
  volume_size = 8
}
launch_block_device_mappings {
  device_name        = "/dev/xvdg"
  omit_from_artifact = true
}
ami_root_device {
  source_device_name = "/dev/xvdg"
  device_name        = "/dev/xvda"
  volume_size        = 4
}
use_create_image = true
`
	f, diags := hclsyntax.ParseConfig([]byte(src), "t.pkr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	val, diags := hcldec.Decode(f.Body, hcl2spec.AmazonEBSSurrogate, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var c Config
	if err := hcl2spec.Decode(val, &c); err != nil {
		t.Fatal(err)
	}
	ctx := &check.Context{Fields: check.BodyFields(f.Body)}
	c.Prepare(ctx)
	got := map[string]int{}
	for _, d := range ctx.Diags {
		got[d.Summary] = d.Subject.Start.Line
	}
	want := map[string]int{
		"use_create_image is not implemented yet": 20,
		"Root source device omitted":              13,
	}
	if len(got) != len(want) {
		t.Errorf("diagnostics %v, want %v", ctx.Diags, want)
	}
	for summary, line := range want {
		if got[summary] != line {
			t.Errorf("%q at line %d, want %d (all: %v)", summary, got[summary], line, got)
		}
	}
}

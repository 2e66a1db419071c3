package template_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imgbuild/imgbuild/builders/amazon/ebs"
	"github.com/imgbuild/imgbuild/internal/template"
)

// TestDynamicBlocksExpand checks that dynamic blocks yield one block per
// for_each element, with the iterator's values.
func TestDynamicBlocksExpand(t *testing.T) {
	dir := t.TempDir()
	src := `
source "amazon-ebs" "al" {
  region        = "us-east-1"
  source_ami    = "ami-12345678"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "app-{{timestamp}}"
  dynamic "tag" {
    for_each = { Team = "platform", App = "web" }
    content {
      key   = tag.key
      value = tag.value
    }
  }
  dynamic "launch_block_device_mappings" {
    for_each = [20, 50]
    iterator = size
    content {
      device_name = "/dev/xvd${substr("ab", size.key, 1)}"
      volume_size = size.value
    }
  }
}
build { sources = ["source.amazon-ebs.al"] }
`
	if err := os.WriteFile(filepath.Join(dir, "main.pkr.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, diags := template.Load(dir, template.Options{WorkDir: dir, Getenv: func(string) string { return "" }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	cfg := tpl.Builds[0].Sources[0].Config.(*ebs.Config)
	tags := map[string]string{}
	for _, kv := range cfg.Tag {
		tags[kv.Key] = kv.Value
	}
	if len(tags) != 2 || tags["Team"] != "platform" || tags["App"] != "web" {
		t.Errorf("tag blocks = %+v, want Team=platform and App=web", cfg.Tag)
	}
	bd := cfg.LaunchBlockDevices
	if len(bd) != 2 || bd[0].DeviceName != "/dev/xvda" || bd[0].VolumeSize != 20 || bd[1].DeviceName != "/dev/xvdb" || bd[1].VolumeSize != 50 {
		t.Errorf("launch_block_device_mappings = %+v, want /dev/xvda 20 and /dev/xvdb 50", bd)
	}
}

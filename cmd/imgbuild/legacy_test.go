package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// legacyTemplate is a Packer legacy JSON template: variables (one from the
// environment, one sensitive, one set with -var), {{user}}, {{timestamp}},
// {{isotime}}, {{build_name}} placeholders, a source_ami_filter, tags and a
// post-processor sequence.
const legacyTemplate = `{
  "description": "legacy JSON end to end",
  "min_packer_version": "1.7.0",
  "variables": {
    "region": "us-east-1",
    "prefix": "legacy",
    "owner": "{{env ` + "`LEGACY_OWNER`" + `}}",
    "secret": "s3cr3t-value",
    "greeting": "hello"
  },
  "sensitive-variables": ["secret"],
  "builders": [
    {
      "type": "amazon-ebs",
      "name": "al2",
      "region": "{{user ` + "`region`" + `}}",
      "instance_type": "t3.micro",
      "ssh_username": "ec2-user",
      "ami_name": "{{user ` + "`prefix`" + `}}-{{timestamp}}",
      "source_ami_filter": {
        "filters": {
          "name": "amzn2-ami-hvm-*-x86_64-gp2"
        },
        "owners": ["amazon"],
        "most_recent": true
      },
      "tags": {
        "Name": "{{user ` + "`prefix`" + `}}",
        "Owner": "{{user ` + "`owner`" + `}}",
        "Built": "{{isotime ` + "`2006`" + `}}",
        "Build": "{{build_name}}"
      }
    }
  ],
  "provisioners": [
    {
      "type": "shell",
      "environment_vars": ["SECRET={{user ` + "`secret`" + `}}"],
      "inline": [
        "echo {{user ` + "`greeting`" + `}} from {{build_name}} > proof.txt",
        "test \"$SECRET\" = s3cr3t-value",
        "cat proof.txt"
      ]
    }
  ],
  "post-processors": [
    [
      {
        "type": "manifest",
        "output": "manifest.json"
      },
      {
        "type": "shell-local",
        "inline": ["echo post-processed"]
      }
    ]
  ]
}
`

// TestLegacyJSONBuild builds a legacy JSON template, read directly, on
// the local cloud.
func TestLegacyJSONBuild(t *testing.T) {
	e := newE2E(t, "realistic")
	e.write(map[string]string{"template.json": legacyTemplate})
	e.env = append(e.env, "LEGACY_OWNER=team-a")
	cmd := e.command("build", "-var", "greeting=hi", "template.json")
	cmd.Dir = e.dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v\n%s\n%s", err, &stdout, &stderr)
	}
	out, errOut := stdout.String(), stderr.String()
	for _, want := range []string{
		"amazon-ebs.al2: hi from al2",
		"post-processed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "s3cr3t-value") {
		t.Errorf("the sensitive variable's value is in the output:\n%s\n%s", out, errOut)
	}
	runID := runIDFrom(t, out)
	m := e.manifest("manifest.json")
	if len(m.Builds) != 1 || len(m.Builds[0].Images) != 1 {
		t.Fatalf("manifest: %+v", m)
	}
	im := m.Builds[0].Images[0]
	desc, err := e.ec2("us-east-1").DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{im.ImageID}})
	e.must(err)
	if len(desc.Images) != 1 {
		t.Fatalf("image %s not found", im.ImageID)
	}
	name := aws.ToString(desc.Images[0].Name)
	if !strings.HasPrefix(name, "legacy-") || len(name) != len("legacy-20060102150405") {
		t.Errorf("image name %q: want legacy-YYYYMMDDhhmmss", name)
	}
	tags := tagMap(desc.Images[0].Tags)
	if tags["Name"] != "legacy" || tags["Owner"] != "team-a" || len(tags["Built"]) != 4 || tags["Build"] != "al2" ||
		tags["imgbuild:run-id"] != runID {
		t.Errorf("image tags wrong: %v", tags)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "template.json.pkr.hcl")); err == nil {
		t.Errorf("build wrote the converted template")
	}
}

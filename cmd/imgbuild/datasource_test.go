package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// dataTemplate is a template using both data sources. The regex() calls
// fail evaluation, and so validation, unless the data sources returned the
// values the test put into the cloud.
const dataTemplate = `
data "amazon-ami" "x" {
  region      = "us-east-1"
  filters     = { name = "%NAME%" }
  owners      = ["self"]
  most_recent = true
}

data "amazon-parameterstore" "y" {
  region = "us-east-1"
  name   = "%PARAM%"
}

locals {
  version   = data.amazon-parameterstore.y.value
  check_ami = regex("^%WANTNAME%$", data.amazon-ami.x.name)
  check_ver = regex("^%WANTVER%$", local.version)
}

source "amazon-ebs" "al" {
  region        = "us-east-1"
  source_ami    = data.amazon-ami.x.id
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "app-${local.version}-{{timestamp}}"
}

build {
  sources = ["source.amazon-ebs.al"]
}
`

// TestValidateEvaluateDataSources runs validate -evaluate-datasources
// in-process against a local cloud. A data source that cannot be resolved
// is a template diagnostic, so validate exits 2 (exitUsage), as for any
// other invalid template.
func TestValidateEvaluateDataSources(t *testing.T) {
	getenv := dataSourceCloud(t)
	tests := []struct {
		name       string
		vars       map[string]string
		wantCode   int
		wantStderr []string
	}{
		{"resolved", map[string]string{}, exitOK, nil},
		{"values checked", map[string]string{"%WANTVER%": "1999.01.01"}, exitUsage, []string{"regex"}},
		{"no AMI matches", map[string]string{"%NAME%": "nothing-*"}, exitUsage,
			[]string{"data.amazon-ami.x", "search us-east-1",
				`no AMI matches filters {name="nothing-*"} with owners [self]; check the region`}},
		{"missing parameter", map[string]string{"%PARAM%": "/imgbuild/none"}, exitUsage,
			[]string{"data.amazon-parameterstore.y", "parameter /imgbuild/none not found in us-east-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDataTemplate(t, tt.vars)
			var out, errOut bytes.Buffer
			code := realMain([]string{"validate", "-evaluate-datasources", dir}, &out, &errOut, getenv)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out.String(), errOut.String())
			}
			if code == exitOK && !strings.Contains(out.String(), "The configuration is valid.") {
				t.Errorf("stdout %q", out.String())
			}
			stderr := strings.Join(strings.Fields(errOut.String()), " ") // diagnostics wrap
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, errOut.String())
				}
			}
			if strings.Contains(errOut.String()+out.String(), "testing") {
				t.Errorf("output shows the credentials:\n%s%s", out.String(), errOut.String())
			}
		})
	}
}

// writeDataTemplate writes dataTemplate with the default placeholders,
// overridden by vars, into a new directory.
func writeDataTemplate(t *testing.T, vars map[string]string) string {
	t.Helper()
	r := map[string]string{
		"%NAME%": "base-al2023-*", "%PARAM%": "/imgbuild/base-version",
		"%WANTNAME%": `base-al2023-2026\\.11\\.01`, "%WANTVER%": `2026\\.11\\.01`,
	}
	for k, v := range vars {
		r[k] = v
	}
	text := dataTemplate
	for k, v := range r {
		text = strings.ReplaceAll(text, k, v)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.pkr.hcl"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dataSourceCloud starts a local cloud holding two base-al2023 images and
// the parameter /imgbuild/base-version, points the process environment at
// it (the SDK reads that, not the CLI's getenv) and returns the getenv to
// give realMain.
func dataSourceCloud(t *testing.T) func(string) string {
	t.Helper()
	s, err := localcloud.ProfileSettings("instant")
	if err != nil {
		t.Fatal(err)
	}
	s.SSH = false
	cloud := testenv.LocalCloud(t, s)
	vars := map[string]string{"AWS_EC2_METADATA_DISABLED": "true"}
	for _, kv := range cloud.Env() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	cfg := testenv.AWSConfig(cloud.URL(), localcloud.Region)
	createImage(t, ec2.NewFromConfig(cfg), "base-al2023-2026.10.01")
	createImage(t, ec2.NewFromConfig(cfg), "base-al2023-2026.11.01")
	_, err = ssm.NewFromConfig(cfg).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String("/imgbuild/base-version"), Value: aws.String("2026.11.01"), Type: ssmtypes.ParameterTypeString,
	})
	if err != nil {
		t.Fatalf("put parameter: %v", err)
	}
	return func(k string) string { return vars[k] }
}

// createImage runs an instance from a built-in AMI and images it as name.
func createImage(t *testing.T, c *ec2.Client, name string) {
	t.Helper()
	ctx := context.Background()
	builtin, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"amzn*"}}},
	})
	if err != nil || len(builtin.Images) == 0 {
		t.Fatalf("find a built-in AMI: %v", err)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: builtin.Images[0].ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro,
	})
	if err != nil {
		t.Fatalf("run instance: %v", err)
	}
	if _, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: run.Instances[0].InstanceId, Name: aws.String(name)}); err != nil {
		t.Fatalf("create image %s: %v", name, err)
	}
}

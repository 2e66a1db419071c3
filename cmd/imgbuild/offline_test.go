package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestValidateIsOffline: validate makes no network call, even for a
// template with data sources and an invalid body; -evaluate-datasources
// does call out (proving the listener would notice).
func TestValidateIsOffline(t *testing.T) {
	conns := listenAsAWS(t)
	dir := t.TempDir()
	tpl := `data "amazon-ami" "base" {
  region  = "us-east-1"
  max_retries = 1
  skip_credential_validation = true
  filters = { name = "al2023-*" }
  owners  = ["amazon"]
  most_recent = true
}
source "amazon-ebs" "x" {
  region        = "us-east-1"
  source_ami    = data.amazon-ami.base.id
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "offline-{{timestamp}}"
}
build {
  sources = ["source.amazon-ebs.x"]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.pkr.hcl"), []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) int {
		var out, errOut bytes.Buffer
		return realMain(args, &out, &errOut, os.Getenv)
	}
	if code := run("validate", dir); code != 0 {
		t.Fatalf("validate: exit %d", code)
	}
	if code := run("graph", dir); code != 0 {
		t.Fatalf("graph: exit %d", code)
	}
	if code := run("inspect", dir); code != 0 {
		t.Fatalf("inspect: exit %d", code)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("offline commands opened %d connections", n)
	}
	run("validate", "-evaluate-datasources", dir)
	deadline := time.Now().Add(5 * time.Second)
	for conns.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if conns.Load() == 0 {
		t.Fatal("-evaluate-datasources made no connection: the listener cannot tell")
	}
}

// listenAsAWS points every AWS endpoint of the test's environment at a
// loopback listener and returns the count of connections it accepts.
func listenAsAWS(t *testing.T) *atomic.Int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	conns := new(atomic.Int32)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	url := "http://" + l.Addr().String()
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"} {
		t.Setenv(k, v)
	}
	return conns
}

// TestValidateRefusesUnimplemented: a template using features this version
// does not implement fails validate (and build) with exit status 2, each
// feature named at its line, and no AWS endpoint is ever contacted.
func TestValidateRefusesUnimplemented(t *testing.T) {
	conns := listenAsAWS(t)
	dir := t.TempDir()
	tpl := `source "amazon-ebs" "win" {
  region        = "us-east-1"
  source_ami    = "ami-0123456789abcdef0"
  instance_type = "m5.large"
  ami_name      = "win-{{timestamp}}"
  communicator  = "winrm"
  winrm_username = "Administrator"
}
build {
  sources = ["source.amazon-ebs.win"]
  provisioner "powershell" {
    inline = ["Write-Host hi"]
  }
  post-processor "manifest" {
    keep_input_artifact = false
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.pkr.hcl"), []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Error: keep_input_artifact = false is not implemented yet", "main.pkr.hcl line 15",
		"not implemented yet in this version of imgbuild",
	}
	for _, cmd := range []string{"validate", "build"} {
		var out, errOut bytes.Buffer
		if code := realMain([]string{cmd, dir}, &out, &errOut, os.Getenv); code != exitUsage {
			t.Fatalf("%s: exit %d, want %d\n%s", cmd, code, exitUsage, errOut.String())
		}
		for _, w := range want {
			if !strings.Contains(errOut.String(), w) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, w, errOut.String())
			}
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("refused templates opened %d connections", n)
	}
}

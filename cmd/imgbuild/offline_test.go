package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestValidateIsOffline: validate makes no network call, even for a
// template with data sources and an invalid body; -evaluate-datasources
// does call out (proving the listener would notice).
func TestValidateIsOffline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int32
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

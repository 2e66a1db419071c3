package main

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const twoRunnersTemplate = `
source "amazon-ebs" "one" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "one-{{timestamp}}"
  ami_regions   = ["eu-west-1"]
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.one"]
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`

// TestTwoRunnersBuildOnce starts two imgbuild processes at once, as two
// CI runners on different machines would (each with its own directory
// and state directory), on the same template: the lease in SSM makes the
// second wait for the first and take up its images, so the image is
// built once.
func TestTwoRunnersBuildOnce(t *testing.T) {
	e := newE2E(t, "instant")
	before := maps.Clone(e.cloud.Stats().Actions)
	type runner struct {
		dir      string
		cmd      *exec.Cmd
		out, err bytes.Buffer
	}
	var rs []*runner
	for i := range 2 {
		r := &runner{dir: filepath.Join(e.dir, string(rune('a'+i)))}
		if err := os.MkdirAll(r.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.dir, "main.pkr.hcl"), []byte(twoRunnersTemplate), 0o644); err != nil {
			t.Fatal(err)
		}
		r.cmd = e.command("build", r.dir)
		r.cmd.Dir = r.dir // each runner in its own checkout
		r.cmd.Env = append(r.cmd.Env, "IMGBUILD_STATE_DIR="+filepath.Join(r.dir, "state"))
		r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.err
		rs = append(rs, r)
	}
	for _, r := range rs {
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	statuses := map[string]int{}
	var ids []string
	for _, r := range rs {
		if err := r.cmd.Wait(); err != nil {
			t.Fatalf("runner in %s: %v\n%s\n%s", r.dir, err, r.out.String(), r.err.String())
		}
		m := (&e2e{t: t, dir: r.dir}).manifest("manifest.json")
		if len(m.Builds) != 1 {
			t.Fatalf("runner in %s: manifest %+v", r.dir, m)
		}
		statuses[m.Builds[0].Status]++
		ids = append(ids, m.Builds[0].ArtifactID)
	}
	if statuses["built"] != 1 || statuses["up-to-date"] != 1 || ids[0] != ids[1] {
		t.Errorf("statuses %v, artifacts %v: want one built and the other up to date with the same images", statuses, ids)
	}
	if m := mutatingCalls(before, e.cloud.Stats().Actions); m["RunInstances"] != 1 || m["CreateImage"] != 1 || m["CopyImage"] != 1 {
		t.Errorf("calls %v: want one instance, one image and one copy", m)
	}
	waited := 0
	for _, r := range rs {
		if strings.Contains(r.out.String(), "waiting: another runner is building this fingerprint") {
			waited++
		}
	}
	if waited != 1 {
		t.Errorf("%d runners said they waited, want 1:\n%s\n----\n%s", waited, rs[0].out.String(), rs[1].out.String())
	}
}

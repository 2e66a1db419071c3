package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHybridImageWithPayloadBootsLikeFull builds examples/strategy, one
// recipe as a "full" image and a "hybrid" one (its app layer deferred to a
// boot payload) in one run on one local cloud. An instance of the hybrid
// image launched with the payload as user data ends up, after its first
// boot, with the same app files as an instance of the full image, while
// the hybrid image itself was built without running the app layer.
func TestHybridImageWithPayloadBootsLikeFull(t *testing.T) {
	e := newE2E(t, "instant")
	if out, err := exec.Command("cp", "-r", "../../examples/strategy/.", e.dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the example: %v %s", err, out)
	}
	cmd := e.command("build", ".")
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "installed app 1.2.3"); n != 1 {
		t.Errorf("the app layer ran %d times during the builds, want once (full only):\n%s", n, out)
	}
	payloadPath := filepath.Join(e.dir, "web.amazon-ebs.hybrid.user-data")
	payload, err := os.ReadFile(payloadPath)
	if err != nil {
		t.Fatalf("the hybrid build's boot payload: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(payload), "#!/bin/sh\n") || !strings.Contains(string(payload), "# script scripts/install-app.sh\n") {
		t.Errorf("boot payload:\n%s", payload)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "web.amazon-ebs.full.user-data")); !os.IsNotExist(err) {
		t.Errorf("the full build wrote a boot payload: %v", err)
	}
	var m struct {
		Builds []struct {
			Name        string `json:"name"`
			BootPayload string `json:"boot_payload"`
			Images      []struct {
				ImageID string `json:"image_id"`
			} `json:"images"`
		} `json:"builds"`
	}
	data, err := os.ReadFile(filepath.Join(e.dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("manifest: %v\n%s", err, data)
	}
	images := map[string]string{}
	for _, b := range m.Builds {
		kind := b.Name[strings.LastIndex(b.Name, ".")+1:]
		if len(b.Images) == 1 {
			images[kind] = b.Images[0].ImageID
		}
		if want := map[string]string{"hybrid": payloadPath}[kind]; b.BootPayload != want {
			t.Errorf("manifest: boot_payload of %s is %q, want %q", b.Name, b.BootPayload, want)
		}
	}
	if images["full"] == "" || images["hybrid"] == "" {
		t.Fatalf("images in the manifest:\n%s", data)
	}

	full := e.boot("us-east-1", images["full"], "")
	hybrid := e.boot("us-east-1", images["hybrid"], string(payload))
	if got := strings.TrimSpace(sshOutput(t, hybrid, "cloud-init status --wait | tail -n 1")); got != "status: done" {
		t.Errorf("cloud-init on the hybrid instance: %q\n%s", got, sshOutput(t, hybrid, "sudo cat /var/log/cloud-init-output.log"))
	}
	state := "sudo sh -c 'cd / && stat -c \"%n %a %U:%G\" etc/os-layer etc/prereqs etc/app/app.conf etc/app/version opt/app/run.sh && " +
		"sha256sum etc/os-layer etc/prereqs etc/app/app.conf etc/app/version opt/app/run.sh && /opt/app/run.sh'"
	want := sshOutput(t, full, state)
	if !strings.Contains(want, "app version=1.2.3") {
		t.Fatalf("the full instance lacks the app:\n%s", want)
	}
	if got := sshOutput(t, hybrid, state); got != want {
		t.Errorf("the hybrid instance after its boot payload:\n%s\nthe full instance:\n%s", got, want)
	}
}

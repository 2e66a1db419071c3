package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/sshd"
	"github.com/imgbuild/imgbuild/internal/testenv"
	"github.com/imgbuild/imgbuild/internal/ui"
)

func TestLocalcloudCommandWritesEnvAndStopsEverything(t *testing.T) {
	testenv.Require(t, testenv.Moto)
	envFile := filepath.Join(t.TempDir(), "cloud.env")
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string {
		if k == "IMGBUILD_LOCALCLOUD_BOOT" {
			return "1s"
		}
		return ""
	}}
	e.ui = ui.New(e.stdout, e.stderr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		done <- runLocalcloud(ctx, e, []string{"--profile", "instant", "--set", "ssh=false", "--env-file", envFile})
	}()
	var vars map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for vars == nil && time.Now().Before(deadline) {
		if b, err := os.ReadFile(envFile); err == nil {
			vars = parseEnv(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if vars == nil {
		cancel()
		t.Fatalf("no env file after 30s (exit %d): %s", <-done, stderr.String())
	}
	for k, want := range map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"} {
		if vars[k] != want {
			t.Errorf("%s=%q, want %q", k, vars[k], want)
		}
	}
	url := vars["AWS_ENDPOINT_URL"]
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("AWS_ENDPOINT_URL=%q", url)
	}
	resp, err := http.Get(url + "/_localcloud/stats")
	if err != nil {
		t.Fatalf("stats endpoint: %v", err)
	}
	resp.Body.Close()
	children := childPIDs()
	if len(children) == 0 {
		t.Error("no child process found while the local cloud runs")
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit code %d: %s", code, stderr.String())
	}
	for _, p := range children {
		if sshd.ProcessAlive(p) {
			t.Errorf("child process %d still running after the command returned", p)
		}
	}
	if _, err := http.Get(url + "/_localcloud/stats"); err == nil {
		t.Error("endpoint still answers after the command returned")
	}
	if !strings.Contains(stdout.String(), "AWS_ENDPOINT_URL="+url) {
		t.Errorf("stdout does not show the endpoint:\n%s", stdout.String())
	}
}

func parseEnv(s string) map[string]string {
	if !strings.HasSuffix(s, "\n") {
		return nil // still being written
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	return vars
}

// childPIDs lists this test process's live children.
func childPIDs() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) && sshd.ProcessAlive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

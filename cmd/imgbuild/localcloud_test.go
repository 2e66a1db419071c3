package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
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
	dir := t.TempDir()
	envFile := filepath.Join(dir, "cloud.env")
	// A file left by an earlier run (one killed with SIGKILL) is replaced
	// by a new file, not rewritten in place.
	const stale = "AWS_ENDPOINT_URL=http://127.0.0.1:1\n"
	if err := os.WriteFile(envFile, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	staleInfo, err := os.Stat(envFile)
	if err != nil {
		t.Fatal(err)
	}
	// Children of the test process from before the command (moto_servers
	// the package's earlier tests left in testenv's pool) are not its.
	before := map[int]bool{}
	for _, p := range childPIDs() {
		before[p] = true
	}
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
	written := make(chan envRead, 1)
	go func() { written <- readUntilReplaced(ctx, envFile, stale) }()
	done := make(chan int)
	go func() {
		done <- runLocalcloud(ctx, e, []string{"--profile", "instant", "--set", "ssh=false", "--env-file", envFile})
	}()
	var got envRead
	select {
	case got = <-written:
	case code := <-done:
		t.Fatalf("exit %d before writing the env file: %s", code, stderr.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("no env file after 30s (exit %d): %s", <-done, stderr.String())
	}
	if got.err != nil {
		cancel()
		<-done
		t.Fatalf("reading the env file while it was written: %v", got.err)
	}
	content := got.content
	if !strings.HasSuffix(content, "\n") {
		t.Errorf("env file seen without its last line: %q", content)
	}
	vars := parseEnv(content)
	for k, want := range map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"} {
		if vars[k] != want {
			t.Errorf("%s=%q, want %q", k, vars[k], want)
		}
	}
	url := vars["AWS_ENDPOINT_URL"]
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("AWS_ENDPOINT_URL=%q", url)
	}
	if fi, err := os.Stat(envFile); err != nil {
		t.Error(err)
	} else {
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("env file mode %v, want 0600", fi.Mode().Perm())
		}
		if os.SameFile(fi, staleInfo) {
			t.Error("the env file was rewritten in place, not replaced by a complete file")
		}
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("files next to the env file: %v, want cloud.env alone", names)
	}
	resp, err := http.Get(url + "/_localcloud/stats")
	if err != nil {
		t.Fatalf("stats endpoint: %v", err)
	}
	resp.Body.Close()
	var children []int
	for _, p := range childPIDs() {
		if !before[p] {
			children = append(children, p)
		}
	}
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
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("left after the cloud stopped: %v", names)
	}
	if !strings.Contains(stdout.String(), content) {
		t.Errorf("the env file %q is not what stdout shows:\n%s", content, stdout.String())
	}
}

// TestLocalcloudEnvFileGoneAfterSIGINT follows the README's background
// recipe with imgbuild as a process: the env file appears once the cloud
// answers and is gone once SIGINT has stopped it.
func TestLocalcloudEnvFileGoneAfterSIGINT(t *testing.T) {
	testenv.Require(t, testenv.Moto)
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "cloud.env")
	cmd := exec.Command(testBinary(t), "localcloud", "--profile", "instant", "--set", "ssh=false", "--env-file", envFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		// A failed test still stops the cloud (moto runs in a process
		// group of its own, which SIGKILL would orphan).
		if !stopped {
			_ = cmd.Process.Signal(os.Interrupt)
			<-exited
		}
	})
	var vars map[string]string
	for deadline := time.Now().Add(30 * time.Second); vars == nil; {
		b, err := os.ReadFile(envFile)
		switch {
		case err == nil:
			if vars = parseEnv(string(b)); vars == nil {
				t.Fatalf("env file seen without its last line: %q", b)
			}
			continue
		case !errors.Is(err, fs.ErrNotExist):
			t.Fatal(err)
		case time.Now().After(deadline):
			_ = cmd.Process.Signal(os.Interrupt)
			<-exited // the output is complete (and no longer written)
			stopped = true
			t.Fatalf("no env file after 30s:\n%s", out.String())
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("imgbuild localcloud exited (%v) before writing the env file:\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	url := vars["AWS_ENDPOINT_URL"]
	resp, err := http.Get(url + "/_localcloud/stats")
	if err != nil {
		t.Fatalf("AWS_ENDPOINT_URL=%q: %v", url, err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("imgbuild localcloud after SIGINT: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("imgbuild localcloud still running 30s after SIGINT")
	}
	if _, err := os.Stat(envFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("env file after SIGINT: %v, want it gone", err)
	}
}

// TestLocalcloudEnvFileWithCommand: with -- COMMAND the env file exists
// while the command runs and is gone when localcloud returns.
func TestLocalcloudEnvFileWithCommand(t *testing.T) {
	testenv.Require(t, testenv.Moto)
	t.Parallel()
	envFile := filepath.Join(t.TempDir(), "cloud.env")
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	e.ui = ui.New(e.stdout, e.stderr)
	script := `cat "$1" && echo "environment AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"`
	code := runLocalcloud(context.Background(), e, []string{"--profile", "instant", "--set", "ssh=false", "--env-file", envFile, "--", "sh", "-c", script, "sh", envFile})
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	file, seen, _ := strings.Cut(stdout.String(), "environment ")
	url := parseEnv(file)["AWS_ENDPOINT_URL"]
	if !strings.HasPrefix(url, "http://127.0.0.1:") || seen != "AWS_ENDPOINT_URL="+url+"\n" {
		t.Errorf("the command did not find the env file naming its own endpoint:\n%s", stdout.String())
	}
	if _, err := os.Stat(envFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("env file after the command: %v, want it gone", err)
	}
}

// envRead is what readUntilReplaced saw.
type envRead struct {
	content string
	err     error
}

// readUntilReplaced reads path as fast as it can until its content is no
// longer old, and returns the new content. The file is never missing or
// unreadable meanwhile: a writer that rewrote it in place, or removed it
// first, would show an empty, cut or missing file to a fast reader.
func readUntilReplaced(ctx context.Context, path, old string) envRead {
	for ctx.Err() == nil {
		b, err := os.ReadFile(path)
		if err != nil {
			return envRead{err: err}
		}
		if s := string(b); s != old {
			return envRead{content: s}
		}
	}
	return envRead{err: ctx.Err()}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// parseEnv parses KEY=VALUE lines; nil when the last line is not complete.
func parseEnv(s string) map[string]string {
	if !strings.HasSuffix(s, "\n") {
		return nil
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

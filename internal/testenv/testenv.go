// Package testenv gives tests the external programs they need (moto_server,
// sshd) and a local cloud to talk to, and decides what happens when a
// program is missing: the test is skipped, unless IMGBUILD_TEST_REQUIRE
// names the dependency ("moto", "sshd", "root", "debootstrap", "debugfs", or "all", comma separated),
// in which case the test fails with an install hint. CI sets it so that a
// missing dependency fails instead of silently passing.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/sshd"
)

// RequireEnv is the environment variable listing dependencies whose absence
// fails tests instead of skipping them.
const RequireEnv = "IMGBUILD_TEST_REQUIRE"

// Dependency names accepted by Require.
const (
	Moto = "moto" // moto_server on PATH
	SSHD = "sshd" // OpenSSH sshd
	Root = "root" // running as root (sshd on port 22, the local cloud's guests)
	// Debootstrap makes the local cloud's guest base system (needed once;
	// then cached).
	Debootstrap = "debootstrap"
	// Debugfs (e2fsprogs) reads ext4 images: the bundles of instance-store
	// images.
	Debugfs = "debugfs"
)

// Require skips the test (or fails it, see RequireEnv) unless every named
// dependency is available. Under -short (make check) it always skips: the
// fast subset runs no external program and no local cloud.
func Require(t testing.TB, deps ...string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipping in -short mode: needs %s", strings.Join(deps, ", "))
	}
	for _, d := range deps {
		if err := check(d); err != nil {
			missing(t, d, err)
		}
	}
}

func check(dep string) error {
	switch dep {
	case Moto:
		if _, err := exec.LookPath("moto_server"); err != nil {
			return fmt.Errorf("moto_server not found on PATH; install it with: pip install 'moto[server]'")
		}
		return nil
	case SSHD:
		_, err := sshd.Path()
		return err
	case Debootstrap:
		if _, err := exec.LookPath("debootstrap"); err == nil {
			return nil
		}
		if _, err := os.Stat("/usr/sbin/debootstrap"); err == nil {
			return nil
		}
		return fmt.Errorf("debootstrap not found; install it with: apt-get install -y debootstrap")
	case Debugfs:
		if _, err := exec.LookPath("debugfs"); err == nil {
			return nil
		}
		if _, err := os.Stat("/usr/sbin/debugfs"); err == nil {
			return nil
		}
		return fmt.Errorf("debugfs not found; install it with: apt-get install -y e2fsprogs")
	case Root:
		if os.Geteuid() != 0 {
			return fmt.Errorf("test needs root (sshd on port 22 of 127.0.1.N, login accounts ec2-user/ubuntu/admin)")
		}
		return nil
	default:
		return fmt.Errorf("testenv: unknown dependency %q", dep)
	}
}

func missing(t testing.TB, dep string, err error) {
	t.Helper()
	if required(dep, os.Getenv(RequireEnv)) {
		t.Fatalf("%v (required by %s=%s)", err, RequireEnv, os.Getenv(RequireEnv))
	}
	t.Skipf("skipping: %v (set %s=%s to make this a failure)", err, RequireEnv, dep)
}

// required reports whether list (the value of RequireEnv) names dep.
func required(dep, list string) bool {
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == dep || f == "all" {
			return true
		}
	}
	return false
}

// Logger returns a logger that writes to the test log, at the level in
// IMGBUILD_LOG (default warn).
func Logger(t testing.TB) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv("IMGBUILD_LOG"))
	if level == hclog.NoLevel {
		level = hclog.Warn
	}
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: level, Output: testWriter{t}})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// MountsUnder returns the lines of /proc/mounts that mention dir: what a
// local cloud's guests left mounted there.
func MountsUnder(t testing.TB, dir string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, dir) {
			out = append(out, l)
		}
	}
	return out
}

package main

import (
	"strings"
	"testing"
)

// TestBuildOnErrorAbort: with -on-error=abort (Packer's), a build whose
// provisioner fails leaves its instance running, key pair and security
// group in place, says how to remove them, and `imgbuild cleanup` then
// removes them from the journal.
func TestBuildOnErrorAbort(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(e2eFiles("abort", `"echo about to fail", "exit 7"`))
	code, out, errOut := e.imgbuild("build", "-on-error=abort", e.dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"status 7", "-on-error=abort", "imgbuild cleanup --run"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out, errOut)
		}
	}
	if strings.Contains(out, "everything the build created was removed") {
		t.Errorf("abort claims the build's resources were removed:\n%s", out)
	}
	runID := runIDFrom(t, out)
	left := e.runResources("us-east-1", runID)
	var running, keyPair, group bool
	for _, r := range left {
		running = running || (strings.HasPrefix(r, "instance ") && strings.HasSuffix(r, " running"))
		keyPair = keyPair || strings.HasPrefix(r, "key pair ")
		group = group || strings.HasPrefix(r, "security group ")
	}
	if !running || !keyPair || !group {
		t.Fatalf("after abort, want a running instance, its key pair and security group; have %v", left)
	}
	for _, r := range left {
		if f := strings.Fields(r); strings.HasPrefix(r, "instance ") && !strings.Contains(out, f[1]) {
			t.Errorf("the summary does not name the instance left behind, %s:\n%s", f[1], out)
		}
	}

	code, cout, cerr := e.imgbuild("cleanup", "--run", runID)
	if code != 0 {
		t.Fatalf("cleanup: exit %d\n%s\n%s", code, cout, cerr)
	}
	for _, r := range e2eRegions {
		if left := e.runResources(r, runID); len(left) > 0 {
			t.Errorf("%s: left after cleanup: %v", r, left)
		}
	}
}

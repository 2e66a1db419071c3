package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// binaryDir holds the imgbuild binaries the tests build; TestMain removes
// it.
var (
	binaryDirOnce sync.Once
	binaryDir     string
	binaryDirErr  error
)

// binary is an imgbuild binary built once per test run.
type binary struct {
	once sync.Once
	race bool // built with -race
	path string
	err  error
}

var plainBinary, raceBinary = &binary{}, &binary{race: true}

// imgbuildBinary returns the plain imgbuild binary, for tests that run
// many processes at once (the fault matrix).
func imgbuildBinary(t testing.TB) string { return plainBinary.get(t) }

// testBinary returns the binary the end-to-end tests run: built with
// -race when the tests are, so that a whole build is checked for data
// races in its own process.
func testBinary(t testing.TB) string {
	if raceEnabled {
		return raceBinary.get(t)
	}
	return plainBinary.get(t)
}

func (b *binary) get(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		binaryDirOnce.Do(func() { binaryDir, binaryDirErr = os.MkdirTemp("", "imgbuild-bin-") })
		if b.err = binaryDirErr; b.err != nil {
			return
		}
		args := []string{"build", "-o", filepath.Join(binaryDir, "imgbuild"), "."}
		if b.race {
			args = []string{"build", "-race", "-o", filepath.Join(binaryDir, "imgbuild-race"), "."}
		}
		b.path = args[len(args)-2]
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	})
	if b.err != nil {
		t.Fatalf("build imgbuild: %v", b.err)
	}
	return b.path
}

// buildUntil starts `imgbuild build dir` and sends one SIGINT when a line
// containing each trigger appears, in order (two triggers: the second
// interrupt is sent only once the first was acted on, so the two cannot
// merge into one pending signal). It returns the exit code and the output.
func (e *e2e) buildUntil(triggers ...string) (int, string) {
	t := e.t
	t.Helper()
	cmd := e.command("build", e.dir)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		next := 0
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if next < len(triggers) && strings.Contains(sc.Text(), triggers[next]) {
				next++
				_ = cmd.Process.Signal(syscall.SIGINT)
			}
		}
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

// TestInterruptDuringCopyLeavesNothing: SIGINT while the copies are being
// waited for cancels the build, cleans up every region and exits 130.
func TestInterruptDuringCopyLeavesNothing(t *testing.T) {
	e := newE2E(t, "realistic", "copy=30s")
	e.write(e2eFiles("sigint", `"true"`))
	code, out := e.buildUntil("copy image to eu-west-1")
	if code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out)
	}
	if !strings.Contains(out, "cleanup: deregister the copy in eu-west-1") {
		t.Errorf("cleanup of the copies not reported:\n%s", out)
	}
	runID := runIDFrom(t, out)
	for _, r := range e2eRegions {
		if left := e.runResources(r, runID); len(left) > 0 {
			t.Errorf("%s: left behind: %v", r, left)
		}
	}
}

// TestSecondInterruptPrintsCleanupCommand: a second SIGINT abandons the
// cleanup, the build says what may be left and prints the cleanup command,
// and that command removes it all.
func TestSecondInterruptPrintsCleanupCommand(t *testing.T) {
	e := newE2E(t, "realistic", "copy=30s")
	e.write(e2eFiles("twice", `"true"`))
	code, out := e.buildUntil("copy image to eu-west-1", "cleanup: ")
	if code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out)
	}
	runID := runIDFrom(t, out)
	if !strings.Contains(out, "imgbuild cleanup --run "+runID) {
		t.Fatalf("no cleanup command in the output:\n%s", out)
	}
	var before []string
	for _, r := range e2eRegions {
		before = append(before, e.runResources(r, runID)...)
	}
	if len(before) == 0 {
		t.Fatalf("abandoned cleanup left nothing: the test cannot tell whether cleanup works\n%s", out)
	}
	if code, o, eo := e.imgbuild("cleanup", "--run", runID); code != 0 {
		t.Fatalf("cleanup --run: exit %d\n%s%s", code, o, eo)
	}
	for _, r := range e2eRegions {
		if left := e.runResources(r, runID); len(left) > 0 {
			t.Errorf("%s: left behind after cleanup --run: %v", r, left)
		}
	}
}

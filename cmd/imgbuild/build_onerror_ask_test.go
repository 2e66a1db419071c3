package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// askTemplate has two shell provisioners: the first fails on its first
// attempt only, the second always fails; the error-cleanup-provisioner
// says when it runs.
const askTemplate = `
source "amazon-ebs" "al" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ssh_username  = "ec2-user"
  ami_name      = "onerror-{{timestamp}}"
  source_ami_filter {
    filters = {
      name = "amzn2-ami-hvm-*-x86_64-gp2"
    }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.al"]
  provisioner "shell" {
    inline = ["if [ -e /tmp/tried ]; then echo second-attempt-ok; else touch /tmp/tried; exit 3; fi"]
  }
  provisioner "shell" {
    inline = ["echo always-fails", "exit 9"]
  }
  error-cleanup-provisioner "shell" {
    inline = ["echo error-cleanup-ran"]
  }
}
`

const askPrompt = "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step (build may fail even if retry succeeds)?"

// interact runs imgbuild in the test's directory and answers each
// -on-error=ask question with the next of answers (then with nothing: the
// end of the input).
func (e *e2e) interact(answers []string, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := e.command(args...)
	cmd.Dir = e.dir
	stdin, err := cmd.StdinPipe()
	e.must(err)
	stdout, err := cmd.StdoutPipe()
	e.must(err)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	e.must(cmd.Start())
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if !strings.HasSuffix(line, askPrompt) {
			continue
		}
		if len(answers) == 0 {
			stdin.Close()
			continue
		}
		if _, err := io.WriteString(stdin, answers[0]+"\n"); err != nil {
			e.t.Fatalf("answer %q: %v", answers[0], err)
		}
		answers = answers[1:]
	}
	err = cmd.Wait()
	stdin.Close()
	if len(answers) > 0 {
		e.t.Errorf("questions not asked for answers %q:\n%s", answers, out.String())
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	case err != nil:
		e.t.Fatalf("imgbuild %v: %v", args, err)
	}
	return 0, out.String(), errOut.String()
}

// TestBuildOnErrorAskRetryAbort: with -on-error=ask (Packer's), a failed
// step asks what to do; an answer it does not know asks again; r retries
// the step (here it then succeeds); a leaves everything in place, as
// -on-error=abort, without running the error-cleanup-provisioner, and
// `imgbuild cleanup --run` removes it.
func TestBuildOnErrorAskRetryAbort(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": askTemplate})
	code, out, errOut := e.interact([]string{"x", "r", "a"}, "build", "-on-error=ask", e.dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		`step "provisioner shell" failed`, "status 3", `Incorrect input: "x"`, `retrying step "provisioner shell"`,
		"second-attempt-ok", "always-fails", "status 9",
		"-on-error=ask: stopping the run and leaving what it created in place", "imgbuild cleanup --run",
	} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out, errOut)
		}
	}
	if n := strings.Count(out, askPrompt); n != 3 {
		t.Errorf("asked %d times, want 3:\n%s", n, out)
	}
	if strings.Contains(out, "error-cleanup-ran") {
		t.Errorf("abort ran the error-cleanup-provisioner:\n%s", out)
	}
	runID := runIDFrom(t, out)
	if !hasRunning(e.runResources("us-east-1", runID)) {
		t.Fatalf("after abort, want the instance left running; have %v", e.runResources("us-east-1", runID))
	}
	if code, cout, cerr := e.imgbuild("cleanup", "--run", runID); code != 0 {
		t.Fatalf("cleanup: exit %d\n%s\n%s", code, cout, cerr)
	}
	if left := e.runResources("us-east-1", runID); len(left) > 0 {
		t.Errorf("left after cleanup: %v", left)
	}
}

// TestBuildOnErrorAskCleanup: answering c (here an empty line, Packer's
// default) cleans up as -on-error=cleanup does, after the
// error-cleanup-provisioner ran.
func TestBuildOnErrorAskCleanup(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": askTemplate})
	code, out, errOut := e.interact([]string{""}, "build", "-on-error=ask", e.dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "error-cleanup-ran") {
		t.Errorf("the error-cleanup-provisioner did not run:\n%s", out)
	}
	if strings.Contains(out, "stopping the run") {
		t.Errorf("c aborted the run:\n%s", out)
	}
	runID := runIDFrom(t, out)
	if left := e.runResources("us-east-1", runID); len(left) > 0 {
		t.Errorf("left after cleanup: %v", left)
	}
}

// TestBuildOnErrorRunCleanupProvisioner: -on-error=run-cleanup-provisioner
// (Packer's) runs the error-cleanup-provisioner after the failed
// provisioner, then aborts as -on-error=abort does.
func TestBuildOnErrorRunCleanupProvisioner(t *testing.T) {
	e := newE2E(t, "instant")
	e.write(map[string]string{"main.pkr.hcl": askTemplate})
	code, out, errOut := e.imgbuild("build", "-on-error=run-cleanup-provisioner", e.dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"status 3", "error-cleanup-ran", "-on-error=run-cleanup-provisioner: stopping the run", "imgbuild cleanup --run"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out, errOut)
		}
	}
	if i, j := strings.Index(out, "error-cleanup-ran"), strings.Index(out, "stopping the run"); i > j {
		t.Errorf("the run stopped before the error-cleanup-provisioner ran:\n%s", out)
	}
	runID := runIDFrom(t, out)
	if !hasRunning(e.runResources("us-east-1", runID)) {
		t.Fatalf("want the instance left running; have %v", e.runResources("us-east-1", runID))
	}
	if code, cout, cerr := e.imgbuild("cleanup", "--run", runID); code != 0 {
		t.Fatalf("cleanup: exit %d\n%s\n%s", code, cout, cerr)
	}
}

func hasRunning(resources []string) bool {
	for _, r := range resources {
		if strings.HasPrefix(r, "instance ") && strings.HasSuffix(r, " running") {
			return true
		}
	}
	return false
}

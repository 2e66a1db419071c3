package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// faultPoint is a step boundary of the amazon-ebs pipeline, located
// exactly in the request stream (the n-th `action` after `after` was
// answered, seen in `phase`) or in the build's output (a provisioner
// printing `line` and then sleeping).
type faultPoint struct {
	name   string
	after  string // "" = from the start
	action string
	n      int
	phase  localcloud.Phase
	line   string // when set, the point is this output line instead
	// completes is set for points after the build committed its images
	// (journaled them as kept, then tagged them complete): those images
	// are the build's output and must survive cleanup.
	completes bool
	// succeeded is set for points in the cleanup of a build that succeeded.
	succeeded bool
}

// faultPoints are the kill and failure points, in pipeline order.
var faultPoints = []faultPoint{
	{name: "key pair created, answer lost", action: "ImportKeyPair", n: 1, phase: localcloud.AfterResponse},
	{name: "after key pair", action: "CreateSecurityGroup", n: 1},
	{name: "security group created, answer lost", action: "CreateSecurityGroup", n: 1, phase: localcloud.AfterResponse},
	{name: "after security group", action: "AuthorizeSecurityGroupIngress", n: 1},
	{name: "instance launched, answer lost", action: "RunInstances", n: 1, phase: localcloud.AfterResponse},
	{name: "waiting for running", after: "RunInstances", action: "DescribeInstances", n: 1},
	{name: "during provisioner 1", line: "fault-provisioner-1"},
	{name: "during provisioner 2", line: "fault-provisioner-2"},
	{name: "stop requested", action: "StopInstances", n: 1, phase: localcloud.AfterResponse},
	{name: "waiting for stopped", after: "StopInstances", action: "DescribeInstances", n: 1},
	{name: "image created, answer lost", action: "CreateImage", n: 1, phase: localcloud.AfterResponse},
	{name: "waiting for the image", after: "CreateImage", action: "DescribeImages", n: 1},
	{name: "first copy started, answer lost", action: "CopyImage", n: 1, phase: localcloud.AfterResponse},
	{name: "second copy started, answer lost", action: "CopyImage", n: 2, phase: localcloud.AfterResponse},
	{name: "waiting for copies", after: "CopyImage", action: "DescribeImages", n: 2},
	{name: "sharing", action: "ModifyImageAttribute", n: 1},
	{name: "deprecating", action: "EnableImageDeprecation", n: 2},
	{name: "tagging the finished images", after: "EnableImageDeprecation", action: "CreateTags", n: 1, completes: true},
	{name: "protecting", action: "EnableImageDeregistrationProtection", n: 1},
	{name: "cleanup after success", action: "TerminateInstances", n: 1, completes: true, succeeded: true},
}

// faultTemplate is built for the fault matrix: two copies, sharing,
// deprecation, protection, and two provisioners that announce themselves
// and sleep so a kill lands inside them.
// Provisioner N sleeps var.fault_sleep_N seconds, set (through
// IMGBUILD_VAR_fault_sleep_N) only for the point inside it.
var faultTemplate = e2eFiles("fault", `"echo fault-provisioner-1; sleep ${var.fault_sleep_1}"`)

// The scripts go to the instance's home directory rather than /tmp: the
// local cloud's instances share the host's /tmp, and runs of the matrix
// go in parallel.
func init() {
	tpl := "variable \"fault_sleep_1\" {\n  default = \"0\"\n}\nvariable \"fault_sleep_2\" {\n  default = \"0\"\n}\n" +
		faultTemplate["main.pkr.hcl"]
	tpl = strings.Replace(tpl, `  post-processor "manifest" {`,
		"  provisioner \"shell\" {\n    inline = [\"echo fault-provisioner-2; sleep ${var.fault_sleep_2}\"]\n  }\n  post-processor \"manifest\" {", 1)
	faultTemplate["main.pkr.hcl"] = strings.ReplaceAll(tpl, "provisioner \"shell\" {\n", "provisioner \"shell\" {\n    remote_folder = \".\"\n")
}

// faultRun is one build of the fault matrix, with its interceptor state.
type faultRun struct {
	point  faultPoint
	mu     sync.Mutex
	cmd    *exec.Cmd
	armed  bool // the `after` action was seen
	count  int
	fired  bool
	onFire func(*exec.Cmd) localcloud.Verdict
	onLine func(*exec.Cmd)
}

// intercept applies the point to the request stream.
func (f *faultRun) intercept(r localcloud.Request, p localcloud.Phase) localcloud.Verdict {
	f.mu.Lock()
	defer f.mu.Unlock()
	pt := f.point
	if f.fired || pt.line != "" || f.cmd == nil {
		return localcloud.Continue
	}
	if pt.after != "" && !f.armed {
		f.armed = r.Action == pt.after && p == localcloud.AfterResponse
		return localcloud.Continue
	}
	if r.Action != pt.action || p != pt.phase {
		return localcloud.Continue
	}
	if f.count++; f.count < pt.n {
		return localcloud.Continue
	}
	f.fired = true
	return f.onFire(f.cmd)
}

// faultProfile is a local cloud profile the fault matrix runs on.
type faultProfile struct {
	name    string
	profile string
	sets    []string // localcloud.Settings.Set overrides, "name=value"
}

// faultProfiles are the profiles of the fault matrix: instant, and the
// realistic profile with the eventual-consistency window on (new IDs
// answer Invalid*.NotFound for 2s, as on the hostile profile) and its
// durations shortened so that a build takes seconds instead of ~25 s; the
// state progressions (pending, stopping, shutting-down) and the jitter
// stay, so kills land while resources are still in transition.
var faultProfiles = []faultProfile{
	{name: "instant", profile: localcloud.Instant},
	{name: "realistic", profile: localcloud.Realistic, sets: []string{
		"boot=200ms", "stop=200ms", "terminate=200ms", "image=300ms", "copy=500ms",
		"latency=2ms", "consistency=2s",
	}},
}

// faultParallel is how many matrix runs go at once: each has its own
// cloud and spends most of its time waiting on it. IMGBUILD_FAULT_PARALLEL
// overrides it.
func faultParallel() int {
	if n, err := strconv.Atoi(os.Getenv("IMGBUILD_FAULT_PARALLEL")); err == nil && n > 0 {
		return n
	}
	return 6
}

// faultCase is one run of the matrix.
type faultCase struct {
	name    string
	profile faultProfile
	point   faultPoint
	mode    string // SIGKILL only: "journal" or "tags" cleanup
}

// faultSlots bounds the fault runs going at once across the matrices,
// which run in parallel with each other and with the end-to-end tests.
var faultSlots = sync.OnceValue(func() chan struct{} { return make(chan struct{}, faultParallel()) })

// runFaultCases runs each case as a subtest, as a parallel test, taking
// one of faultSlots for each. The runs are independent (each has its own
// cloud and state directory) and use no t.Setenv: the build and the
// cleanup are separate processes given their environment.
func runFaultCases(t *testing.T, cases []faultCase, run func(t *testing.T, c faultCase)) {
	t.Parallel()
	slots := faultSlots()
	var wg sync.WaitGroup
	for _, c := range cases {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			t.Run(c.name, func(t *testing.T) { run(t, c) })
		}()
	}
	wg.Wait() // the subtests report their own failures
}

// faultMatrix is every (profile, point) pair, with a mode per point for
// each of modes (none: one case per pair).
func faultMatrix(modes ...string) []faultCase {
	if len(modes) == 0 {
		modes = []string{""}
	}
	var out []faultCase
	for _, p := range faultProfiles {
		for _, pt := range faultPoints {
			for _, m := range modes {
				name := p.name + "/" + pt.name
				if m != "" {
					name += "/" + m
				}
				out = append(out, faultCase{name: name, profile: p, point: pt, mode: m})
			}
		}
	}
	return out
}

// newFaultCloud starts a local cloud (the profile's settings, SSH) whose
// interceptor serves f, and writes the template. Its runs use the plain
// imgbuild binary: many go at once.
func newFaultCloud(t *testing.T, f *faultRun, p faultProfile) *e2e {
	testenv.Require(t, testenv.Moto, testenv.Root, testenv.Debootstrap)
	s := profileSettings(t, p.profile, p.sets...)
	cloud := testenv.LocalCloudWith(t, localcloud.Options{Settings: s, Intercept: f.intercept})
	e := e2eOn(t, cloud, imgbuildBinary(t))
	e.write(faultTemplate)
	return e
}

// run starts the build as a separate process, applies output-line points,
// and returns its exit code and output.
func (f *faultRun) run(e *e2e, extraEnv ...string) (int, string) {
	t := e.t
	cmd := e.command("build", e.dir)
	cmd.Env = append(slices.Clone(e.env), extraEnv...)
	if n, ok := strings.CutPrefix(f.point.line, "fault-provisioner-"); ok {
		cmd.Env = append(cmd.Env, "IMGBUILD_VAR_fault_sleep_"+n+"=30")
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	f.mu.Lock()
	if err := cmd.Start(); err != nil {
		f.mu.Unlock()
		t.Fatal(err)
	}
	f.cmd = cmd
	f.mu.Unlock()
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			f.mu.Lock()
			if f.point.line != "" && !f.fired && strings.Contains(sc.Text(), f.point.line) {
				f.fired = true
				f.onLine(cmd)
			}
			f.mu.Unlock()
		}
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	e.cloud.WaitIdle() // requests the dead process had sent are settled
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	if !f.fired {
		t.Fatalf("fault point %q never reached:\n%s", f.point.name, out.String())
	}
	return code, out.String()
}

// leftovers lists what a fault run left in every region: everything of
// the fault builds' runs except images and snapshots a finished build
// marked complete when the point allows that.
func (e *e2e) leftovers(allowComplete bool) []string {
	var left []string
	for _, r := range e2eRegions {
		for _, res := range e.anyRunResources(r) {
			if allowComplete && strings.HasSuffix(res, "(complete)") {
				continue
			}
			left = append(left, r+": "+res)
		}
	}
	return left
}

// TestFaultMatrixSIGKILL kills the build (SIGKILL) at every fault point,
// on every fault profile, then cleans up from the journal or, with the
// state directory removed, by tags: nothing may be left, and a second
// cleanup has nothing to do.
func TestFaultMatrixSIGKILL(t *testing.T) {
	var kills atomic.Int32
	cases := faultMatrix("journal", "tags")
	runFaultCases(t, cases, func(t *testing.T, c faultCase) {
		f := &faultRun{point: c.point}
		kill := func(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
		f.onFire = func(cmd *exec.Cmd) localcloud.Verdict { kill(cmd); return localcloud.Drop }
		f.onLine = kill
		e := newFaultCloud(t, f, c.profile)
		code, out := f.run(e)
		if code != 128+int(syscall.SIGKILL) {
			t.Fatalf("build exit %d, want death by SIGKILL\n%s", code, out)
		}
		runIDFrom(t, out) // the killed run has shown its ID
		args := []string{"cleanup"}
		if c.mode == "tags" {
			if err := os.RemoveAll(filepath.Join(e.dir, "state")); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--tags", "--older-than", "0s")
			for _, r := range e2eRegions {
				args = append(args, "--region", r)
			}
		}
		code, cout, errOut := e.imgbuild(args...)
		if code != 0 {
			t.Fatalf("cleanup exit %d\n%s\n%s\nbuild said:\n%s", code, cout, errOut, out)
		}
		if left := e.leftovers(c.point.completes); len(left) > 0 {
			t.Fatalf("left behind after cleanup: %v\ncleanup said:\n%s%s\nbuild said:\n%s", left, cout, errOut, out)
		}
		if code, o, eo := e.imgbuild(args...); code != 0 {
			t.Errorf("second cleanup exit %d, want 0 (idempotent)\n%s%s", code, o, eo)
		}
		kills.Add(1)
	})
	fmt.Printf("fault matrix: %d SIGKILL points x 2 cleanup modes x %d profiles, %d passed\n",
		len(faultPoints), len(faultProfiles), kills.Load())
}

// TestFaultMatrixSIGINT interrupts the build once at every fault point, on
// every fault profile: the build cleans up after itself and exits 130
// (or 0 when the build had succeeded already), leaving nothing.
func TestFaultMatrixSIGINT(t *testing.T) {
	var passed atomic.Int32
	runFaultCases(t, faultMatrix(), func(t *testing.T, c faultCase) {
		f := &faultRun{point: c.point}
		interrupt := func(cmd *exec.Cmd) { _ = cmd.Process.Signal(syscall.SIGINT) }
		f.onFire = func(cmd *exec.Cmd) localcloud.Verdict { interrupt(cmd); return localcloud.Continue }
		f.onLine = interrupt
		e := newFaultCloud(t, f, c.profile)
		code, out := f.run(e)
		if code != 130 && !(c.point.succeeded && code == 0) {
			t.Fatalf("build exit %d, want 130\n%s", code, out)
		}
		if left := e.leftovers(c.point.completes); len(left) > 0 {
			t.Fatalf("left behind after SIGINT: %v\n%s", left, out)
		}
		passed.Add(1)
	})
	fmt.Printf("fault matrix: %d SIGINT points x %d profiles, %d passed\n", len(faultPoints), len(faultProfiles), passed.Load())
}

// TestFaultMatrixAPIFailure refuses the call of every request point (on
// the instant profile): the build fails naming the call and leaves
// nothing.
func TestFaultMatrixAPIFailure(t *testing.T) {
	var passed atomic.Int32
	var cases []faultCase
	for _, c := range faultMatrix() {
		if c.point.line != "" || c.profile.profile != localcloud.Instant {
			continue // provisioner failures are covered by TestBuildFailuresLeaveNothing
		}
		// A refusal is certain only before the call took effect (an API
		// error after it would be a lie no real endpoint tells), so every
		// point is failed as its request arrives.
		c.point.phase = localcloud.BeforeForward
		cases = append(cases, c)
	}
	runFaultCases(t, cases, func(t *testing.T, c faultCase) {
		pt := c.point
		f := &faultRun{point: pt}
		f.onFire = func(*exec.Cmd) localcloud.Verdict { return localcloud.Fail }
		e := newFaultCloud(t, f, c.profile)
		code, out := f.run(e)
		if code != 1 {
			t.Fatalf("build exit %d, want 1\n%s", code, out)
		}
		if !strings.Contains(out, "injected failure of "+pt.action) {
			t.Errorf("output does not name the failed call %s:\n%s", pt.action, out)
		}
		if pt.succeeded {
			// The build succeeded but its cleanup failed: the summary
			// says what remains and imgbuild cleanup finishes the job.
			if !strings.Contains(out, "imgbuild cleanup --run") {
				t.Errorf("no cleanup command printed:\n%s", out)
			}
			if code, o, eo := e.imgbuild("cleanup"); code != 0 {
				t.Fatalf("cleanup exit %d\n%s%s", code, o, eo)
			}
		}
		if left := e.leftovers(pt.completes); len(left) > 0 {
			t.Fatalf("left behind: %v\n%s", left, out)
		}
		passed.Add(1)
	})
	fmt.Printf("fault matrix: %d API failure points, %d passed\n", len(cases), passed.Load())
}

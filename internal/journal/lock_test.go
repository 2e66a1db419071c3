package journal

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func listOne(t *testing.T, dir string) RunInfo {
	t.Helper()
	infos, err := List(dir)
	must(t, err)
	if len(infos) != 1 {
		t.Fatalf("List returned %d runs, want 1: %+v", len(infos), infos)
	}
	if infos[0].Err != nil {
		t.Fatalf("List: %v", infos[0].Err)
	}
	return infos[0]
}

// wantLocked checks that err is a *LockedError naming pid.
func wantLocked(t *testing.T, what string, err error, pid int) {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != pid ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", pid)) {
		t.Errorf("%s: %v, want a LockedError naming pid %d", what, err, pid)
	}
}

func TestLockInProcess(t *testing.T) {
	dir, w := createRun(t, "locked")
	_, err := Create(dir, Header{RunID: "locked"})
	wantLocked(t, "second Create", err, os.Getpid())
	_, err = Resume(dir, "locked")
	wantLocked(t, "Resume while held", err, os.Getpid())
	if info := listOne(t, dir); !info.WriterAlive || info.Orphaned() {
		t.Errorf("while held: %+v, want WriterAlive", info)
	}

	must(t, w.Close())
	if info := listOne(t, dir); info.WriterAlive || !info.Orphaned() {
		t.Errorf("after Close without End: %+v, want writer gone and orphaned", info)
	}
	w2, err := Resume(dir, "locked")
	must(t, err)
	must(t, w2.End(OutcomeOK))
	must(t, w2.Close())
	if info := listOne(t, dir); info.WriterAlive || !info.Ended || info.Outcome != OutcomeOK || info.Orphaned() {
		t.Errorf("after End: %+v, want ended ok, not orphaned", info)
	}
}

func TestListSkipsOtherFilesAndReportsBadRuns(t *testing.T) {
	dir, w := createRun(t, "good")
	must(t, w.Close())
	must(t, os.WriteFile(RunPath(dir, "bad"), []byte("garbage\n"), 0o600))
	must(t, os.WriteFile(RunPath(dir, "notes")+".txt", nil, 0o600))
	must(t, os.WriteFile(RunPath(dir, ".x.tmp"), nil, 0o600))
	infos, err := List(dir)
	must(t, err)
	if len(infos) != 2 || infos[0].RunID != "bad" || infos[0].Err == nil || infos[1].RunID != "good" || infos[1].Err != nil {
		t.Errorf("List = %+v, want bad (with Err) then good", infos)
	}
	if infos, err := List(t.TempDir()); err != nil || infos != nil {
		t.Errorf("List of an empty state dir = %v, %v", infos, err)
	}
}

const helperEnv = "IMGBUILD_JOURNAL_HELPER_DIR"

// TestHelperProcess is the child of TestCrash: it journals resources, says
// ready, and waits to be killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestCrash")
	}
	w, err := Create(dir, Header{RunID: "crash", Builds: []string{"web"}})
	must(t, err)
	for i := range 5 {
		ref := mustIntent(t, w, Resource{Type: Instance, Region: "us-east-1", ClientToken: fmt.Sprint("tok-", i)})
		must(t, w.Created(ref, fmt.Sprint("i-", i)))
	}
	mustIntent(t, w, Resource{Type: Image, Region: "us-east-1", Name: "in-flight"})
	fmt.Println("ready")
	time.Sleep(time.Minute)
}

// TestCrash SIGKILLs a process holding a run: its lock is released, the run
// shows as orphaned, and every record it fsync'd is read back.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("helper said %q, %v; want ready", line, err)
	}

	if info := listOne(t, dir); !info.WriterAlive || info.Header.PID != cmd.Process.Pid {
		t.Errorf("child running: %+v, want WriterAlive and its pid", info)
	}
	_, err = Resume(dir, "crash")
	wantLocked(t, "Resume of the child's run", err, cmd.Process.Pid)
	_, err = Create(dir, Header{RunID: "crash"})
	wantLocked(t, "Create of the child's run", err, cmd.Process.Pid)

	must(t, cmd.Process.Kill()) // SIGKILL
	if err := cmd.Wait(); err == nil {
		t.Fatal("killed helper exited cleanly")
	}
	if info := listOne(t, dir); info.WriterAlive || info.Ended || !info.Orphaned() {
		t.Errorf("after SIGKILL: %+v, want writer gone, not ended", info)
	}
	run := mustRead(t, RunPath(dir, "crash"))
	want := "instance:i-0 instance:i-1 instance:i-2 instance:i-3 instance:i-4 image:"
	if got := ids(run.Resources); got != want || run.TornTail || run.Resources[5].Name != "in-flight" {
		t.Errorf("recovered %s (torn=%v), want %s", got, run.TornTail, want)
	}
	if n := len(run.Leftovers()); n != 6 {
		t.Errorf("%d leftovers, want 6", n)
	}
}

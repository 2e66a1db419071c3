package sweep

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// readRun reads run runID of the state directory dir.
func readRun(t *testing.T, dir, runID string) *journal.Run {
	t.Helper()
	run, err := journal.Read(journal.RunPath(dir, runID))
	mustDo(t, err)
	return run
}

// TestCleanerRefusesOtherAccount: of a run made in two accounts, a
// cleanup with credentials for one removes that account's build only and
// refuses the other, which the run keeps as leftovers; a cleanup given the
// template's access for the other build finishes the run.
func TestCleanerRefusesOtherAccount(t *testing.T) {
	f := newFakeAWS(t)
	dir := t.TempDir()
	runID := seedRun(t, dir, map[string]string{"web": "111111111111", "db": "222222222222"}, "web", "db")
	n := &notes{}
	c := &Cleaner{Access: &Sessions{Env: keys("111111111111")}, Report: n}
	mustDo(t, c.ByJournal(context.Background(), dir, runID))

	if got := f.calls("DeleteKeyPair"); !slices.Equal(got, []string{"DeleteKeyPair 111111111111 key-of-web"}) {
		t.Errorf("deleted %q, want only build web's key pair, in its account", got)
	}
	what := fmt.Sprintf("1 resources of build db in run %s", runID)
	if res := c.Result(); !slices.Equal(res.Remains, []string{what}) || res.Removed != 1 {
		t.Errorf("result %+v, want web's key removed and db's remaining", res)
	}
	want := fmt.Sprintf("remain %s: run %s: build db was made in account 222222222222 (access_key and secret_key from the template), "+
		"but the environment's credentials are for account 111111111111", what, runID)
	if !slices.ContainsFunc(n.lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
		t.Errorf("reported\n%q\nwant a line starting %q", n.lines, want)
	}
	run := readRun(t, dir, runID)
	if run.Ended || len(run.Leftovers()) != 1 || run.Leftovers()[0].Build != "db" {
		t.Fatalf("after the refusal: ended=%v leftovers=%+v; want db's key pair left and the run open", run.Ended, run.Leftovers())
	}

	c = &Cleaner{Access: &Sessions{Env: keys("111111111111"), TemplatePath: "web.pkr.hcl",
		Template: func(context.Context) (map[string]awsapi.Access, error) {
			return map[string]awsapi.Access{"db": keys("222222222222")}, nil
		}}, Report: &notes{}}
	mustDo(t, c.ByJournal(context.Background(), dir, runID))
	if got := f.calls("DeleteKeyPair"); len(got) != 2 || got[1] != "DeleteKeyPair 222222222222 key-of-db" {
		t.Errorf("deleted %q, want db's key pair deleted in its account", got)
	}
	if run := readRun(t, dir, runID); !run.Ended || len(run.Leftovers()) != 0 || len(c.Result().Remains) != 0 {
		t.Errorf("with the template: ended=%v leftovers=%+v remains=%q", run.Ended, run.Leftovers(), c.Result().Remains)
	}
}

// TestCleanerAllRefused: when no build of a run matches, the run is
// neither taken over nor touched, in a dry run or not.
func TestCleanerAllRefused(t *testing.T) {
	f := newFakeAWS(t)
	dir := t.TempDir()
	runID := seedRun(t, dir, map[string]string{"web": "222222222222"}, "web")
	for _, dry := range []bool{true, false} {
		n := &notes{}
		c := &Cleaner{Access: &Sessions{Env: keys("111111111111")}, Report: n, DryRun: dry}
		mustDo(t, c.ByJournal(context.Background(), dir, ""))
		if res := c.Result(); len(res.Remains) != 1 || res.Removed != 0 {
			t.Errorf("dry run %v: result %+v, want the build remaining", dry, res)
		}
		if len(n.lines) != 1 || !strings.Contains(n.lines[0], "made in account 222222222222") {
			t.Errorf("dry run %v: reported %q, want only the refusal", dry, n.lines)
		}
	}
	if got := f.calls("DeleteKeyPair"); len(got) != 0 {
		t.Errorf("deleted %q, want nothing", got)
	}
	if run := readRun(t, dir, runID); len(run.Resumed) != 0 || run.Ended {
		t.Errorf("run taken over (%+v) or ended: a refused run must not be touched", run.Resumed)
	}
}

// TestCleanerOldJournal: a run that recorded no account is cleaned up
// with a warning that the account was not checked.
func TestCleanerOldJournal(t *testing.T) {
	f := newFakeAWS(t)
	dir := t.TempDir()
	runID := seedRun(t, dir, nil, "web")
	n := &notes{}
	c := &Cleaner{Access: &Sessions{Env: keys("111111111111")}, Report: n}
	mustDo(t, c.ByJournal(context.Background(), dir, runID))
	want := fmt.Sprintf("note %d %s web: its journal records no account", AccessUnchecked, runID)
	if !slices.ContainsFunc(n.lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
		t.Errorf("reported %q, want a line starting %q", n.lines, want)
	}
	if len(f.calls("DeleteKeyPair")) != 1 || !readRun(t, dir, runID).Ended {
		t.Errorf("old run not cleaned up: %q", f.calls("DeleteKeyPair"))
	}
}

// TestCleanerConnectError: a build whose access cannot be made remains,
// with the reason; the other builds are cleaned up.
func TestCleanerConnectError(t *testing.T) {
	newFakeAWS(t)
	dir := t.TempDir()
	runID := seedRun(t, dir, map[string]string{"web": "111111111111", "db": "111111111111"}, "web", "db")
	n := &notes{}
	c := &Cleaner{Access: &Sessions{Env: keys("111111111111"), TemplatePath: "t.pkr.hcl",
		Template: func(context.Context) (map[string]awsapi.Access, error) {
			return map[string]awsapi.Access{"db": {Region: "us-east-1", AccessKey: "only-half"}}, nil
		}}, Report: n}
	mustDo(t, c.ByJournal(context.Background(), dir, runID))
	what := "1 resources of build db in run " + runID
	if res := c.Result(); res.Removed != 1 || !slices.Equal(res.Remains, []string{what}) {
		t.Errorf("result %+v", res)
	}
	want := "remain " + what + ": connect to AWS with the credentials of template t.pkr.hcl: access_key and secret_key must be set together"
	if !slices.Contains(n.lines, want) {
		t.Errorf("reported %q, want %q", n.lines, want)
	}
}

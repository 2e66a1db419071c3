package sweep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// notes records what a Cleaner reports.
type notes struct{ lines []string }

func (n *notes) Resource(ev Event) {
	n.lines = append(n.lines, fmt.Sprintf("%s %s", ev.Action, ev.Resource.ID))
}
func (n *notes) Note(x Note) {
	line := fmt.Sprintf("note %d %s", x.Kind, x.Run.RunID)
	if x.Build != "" || x.Detail != "" {
		line += fmt.Sprintf(" %s: %s", x.Build, x.Detail)
	}
	n.lines = append(n.lines, line)
}
func (n *notes) Remain(what string, err error) {
	n.lines = append(n.lines, fmt.Sprintf("remain %s: %v", what, err))
}

// lazyAccess connects to AWS only when a run needs it; the tests that use
// it expect no connection.
func lazyAccess() *Sessions { return &Sessions{Env: awsapi.Access{Region: "us-east-1"}} }

// TestCleanerJournalRuns checks that a cleanup by journal skips a run
// still being written and reports an ended run that lists leftovers as
// remaining, touching neither.
func TestCleanerJournalRuns(t *testing.T) {
	dir := t.TempDir()
	live, err := journal.Create(dir, journal.Header{Template: "t.pkr.hcl"})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	ended, err := journal.Create(dir, journal.Header{Template: "t.pkr.hcl"})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ended.Intent(journal.Resource{Type: journal.KeyPair, Region: "us-east-1", Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ended.Created(ref, "key-1"); err != nil {
		t.Fatal(err)
	}
	if err := ended.End(journal.OutcomeFailed); err != nil {
		t.Fatal(err)
	}
	if err := ended.Close(); err != nil {
		t.Fatal(err)
	}
	n := &notes{}
	c := &Cleaner{Access: lazyAccess(), Report: n}
	if err := c.ByJournal(context.Background(), dir, ""); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("note %d %s", RunSkipped, live.RunID()),
		fmt.Sprintf("remain run %s: ended (failed) with 1 leftovers; run `imgbuild cleanup --run %[1]s` to remove them", ended.RunID()),
	}
	slices.Sort(n.lines)
	slices.Sort(want)
	if !slices.Equal(n.lines, want) {
		t.Errorf("reported\n%q\nwant\n%q", n.lines, want)
	}
	if res := c.Result(); res.Removed != 0 || len(res.Remains) != 1 || res.Remains[0] != "run "+ended.RunID() {
		t.Errorf("result %+v", res)
	}
}

// TestCleanerRequestErrors checks that a request that cannot be carried
// out is a RequestError, which the command maps to a usage error.
func TestCleanerRequestErrors(t *testing.T) {
	dir := t.TempDir()
	c := &Cleaner{Access: lazyAccess(), Report: &notes{}}
	var re *RequestError
	err := c.ByJournal(context.Background(), dir, "no-such-run")
	if !errors.As(err, &re) || err.Error() != "no run no-such-run in "+dir {
		t.Errorf("unknown run: %v", err)
	}
}

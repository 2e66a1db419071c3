package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/google/uuid"
)

func TestCreateWritesHeader(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Header{Template: "t.pkr.hcl", Builds: []string{"a", "b"}, Version: "1.2.3"})
	must(t, err)
	defer w.Close()
	if _, err := uuid.Parse(w.RunID()); err != nil {
		t.Errorf("generated run id %q is not a UUID: %v", w.RunID(), err)
	}
	if want := filepath.Join(dir, "runs", w.RunID()+".jsonl"); w.Path() != want {
		t.Errorf("Path() = %s, want %s", w.Path(), want)
	}
	h := mustRead(t, w.Path()).Header
	host, _ := os.Hostname()
	if h.RunID != w.RunID() || h.Template != "t.pkr.hcl" || !reflect.DeepEqual(h.Builds, []string{"a", "b"}) ||
		h.Version != "1.2.3" || h.PID != os.Getpid() || h.Hostname != host || h.Started.IsZero() {
		t.Errorf("header = %+v", h)
	}
}

func TestFilePermissions(t *testing.T) {
	dir, w := createRun(t, "perm")
	for path, want := range map[string]os.FileMode{w.Path(): 0o600, filepath.Dir(w.Path()): 0o700} {
		fi, err := os.Stat(path)
		must(t, err)
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", path, got, want)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	must(t, err)
	if len(entries) != 1 {
		t.Errorf("runs dir holds %d entries, want only the run file", len(entries))
	}
}

var (
	web   = Resource{Type: Instance, Region: "us-east-1", Build: "web", ClientToken: "tok-1", Tags: map[string]string{"imgbuild:run-id": "r"}}
	image = Resource{Type: Image, Region: "us-east-1", Build: "web", Name: "web-123"}
)

// TestReplay checks the state machine: every record kind, written by a
// Writer, read back by Read.
func TestReplay(t *testing.T) {
	created := func(r Resource, id string, ref Ref) Resource {
		r.ID, r.Ref, r.State = id, ref, StateCreated
		return r
	}
	with := func(r Resource, s State) Resource { r.State = s; return r }
	snap := Resource{Type: Snapshot, Region: "us-east-1", ID: "snap-1", Build: "web", Parent: "ami-1", State: StateCreated}
	tests := []struct {
		name    string
		write   func(t *testing.T, w *Writer)
		want    []Resource
		ended   bool
		outcome string
	}{
		{"intent only", func(t *testing.T, w *Writer) { mustIntent(t, w, web) },
			[]Resource{{Type: Instance, Region: "us-east-1", Build: "web", ClientToken: "tok-1", Tags: web.Tags, Ref: 2, State: StateIntended}}, false, ""},
		{"created", func(t *testing.T, w *Writer) { must(t, w.Created(mustIntent(t, w, web), "i-1")) },
			[]Resource{created(web, "i-1", 2)}, false, ""},
		{"created with snapshots", func(t *testing.T, w *Writer) {
			must(t, w.Created(mustIntent(t, w, image), "ami-1", Resource{Type: Snapshot, ID: "snap-1"}))
		}, []Resource{created(image, "ami-1", 2), snap}, false, ""},
		{"not created", func(t *testing.T, w *Writer) { must(t, w.NotCreated(mustIntent(t, w, web))) },
			[]Resource{with(created(web, "", 2), StateNotCreated)}, false, ""},
		{"deleted", func(t *testing.T, w *Writer) {
			must(t, w.Created(mustIntent(t, w, web), "i-1"))
			must(t, w.Deleted(Instance, "us-east-1", "i-1"))
		}, []Resource{with(created(web, "i-1", 2), StateDeleted)}, false, ""},
		{"kept", func(t *testing.T, w *Writer) {
			must(t, w.Created(mustIntent(t, w, image), "ami-1", Resource{Type: Snapshot, ID: "snap-1"}))
			must(t, w.Kept(Image, "us-east-1", "ami-1"))
			must(t, w.Kept(Snapshot, "us-east-1", "snap-1"))
		}, []Resource{with(created(image, "ami-1", 2), StateKept), with(snap, StateKept)}, false, ""},
		// An intent may carry its ID (a snapshot seen on its image): a
		// kill before its created record leaves it intended, and the
		// cleanup's deleted record settles it.
		{"intent with its ID, then deleted", func(t *testing.T, w *Writer) {
			mustIntent(t, w, Resource{Type: Snapshot, Region: "us-east-1", ID: "snap-1", Build: "web", Parent: "ami-1"})
			must(t, w.Deleted(Snapshot, "us-east-1", "snap-1"))
		}, []Resource{{Type: Snapshot, Region: "us-east-1", ID: "snap-1", Build: "web", Parent: "ami-1", Ref: 2, State: StateDeleted}}, false, ""},
		{"deleted and kept unknown to the run", func(t *testing.T, w *Writer) {
			must(t, w.Deleted(Volume, "eu-west-1", "vol-9"))
			must(t, w.Kept(Image, "eu-west-1", "ami-9"))
		}, []Resource{{Type: Volume, Region: "eu-west-1", ID: "vol-9", State: StateDeleted},
			{Type: Image, Region: "eu-west-1", ID: "ami-9", State: StateKept}}, false, ""},
		{"end ok", func(t *testing.T, w *Writer) { must(t, w.End(OutcomeOK)) }, nil, true, OutcomeOK},
		{"end failed", func(t *testing.T, w *Writer) { must(t, w.End(OutcomeFailed)) }, nil, true, OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, w := createRun(t, "replay")
			tt.write(t, w)
			run := mustRead(t, w.Path())
			if !reflect.DeepEqual(run.Resources, tt.want) {
				t.Errorf("resources:\n got %+v\nwant %+v", run.Resources, tt.want)
			}
			if run.Ended != tt.ended || run.Outcome != tt.outcome || run.TornTail {
				t.Errorf("ended=%v outcome=%q torn=%v, want %v %q false", run.Ended, run.Outcome, run.TornTail, tt.ended, tt.outcome)
			}
		})
	}
}

func TestResumeContinuesRun(t *testing.T) {
	dir, w := createRun(t, "resume")
	ref := mustIntent(t, w, web)
	must(t, w.End(OutcomeFailed))
	must(t, w.Close())

	w2, err := Resume(dir, "resume")
	must(t, err)
	defer w2.Close()
	if run := mustRead(t, w2.Path()); run.Ended || len(run.Resumed) != 1 || run.Resumed[0].PID != os.Getpid() {
		t.Fatalf("after Resume: ended=%v resumed=%+v, want not ended, resumed by this process", run.Ended, run.Resumed)
	}
	must(t, w2.Created(ref, "i-found")) // cleanup found the intended instance by its token
	must(t, w2.Deleted(Instance, "us-east-1", "i-found"))
	must(t, w2.End(OutcomeFailed))
	run := mustRead(t, w2.Path())
	if !run.Ended || len(run.Leftovers()) != 0 || run.Resources[0].State != StateDeleted {
		t.Errorf("ended=%v leftovers=%v resources=%+v", run.Ended, run.Leftovers(), run.Resources)
	}
}

func TestWriterRejects(t *testing.T) {
	dir, w := createRun(t, "rejects")
	ref := mustIntent(t, w, web)
	must(t, w.Created(ref, "i-1"))
	tests := []struct {
		name string
		err  error
	}{
		{"intent without region", func() error { _, err := w.Intent(Resource{Type: Instance}); return err }()},
		{"created twice", w.Created(ref, "i-2")},
		{"created for unknown ref", w.Created(99, "i-2")},
		{"created without id", w.Created(ref, "")},
		{"extra without id", w.Created(mustIntent(t, w, image), "ami-1", Resource{Type: Snapshot})},
		{"not created after created", w.NotCreated(ref)},
		{"deleted without id", w.Deleted(Instance, "us-east-1", "")},
		{"end without outcome", w.End("")},
		{"create with bad run id", func() error { _, err := Create(dir, Header{RunID: "../x"}); return err }()},
		{"resume missing run", func() error { _, err := Resume(dir, "nope"); return err }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
		})
	}
	must(t, w.End(OutcomeOK))
	if err := w.Deleted(Instance, "us-east-1", "i-1"); err == nil {
		t.Error("append after End: no error")
	}
	must(t, w.Close())
	if _, err := w.Intent(web); err == nil {
		t.Error("append after Close: no error")
	}
	if run := mustRead(t, w.Path()); len(run.Resources) != 2 || !run.Ended {
		t.Errorf("rejected calls changed the run: %+v", run)
	}
}

// TestConcurrentWriters journals from 20 goroutines at once: every record
// is intact and every resource is created.
func TestConcurrentWriters(t *testing.T) {
	_, w := createRun(t, "concurrent")
	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := Resource{Type: Instance, Region: "us-east-1", ClientToken: fmt.Sprint("tok-", i)}
			ref, err := w.Intent(r)
			if err == nil {
				err = w.Created(ref, fmt.Sprint("i-", i))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	run := mustRead(t, w.Path())
	seen := map[string]bool{}
	for _, r := range run.Resources {
		if r.State != StateCreated || r.ID != "i-"+r.ClientToken[len("tok-"):] {
			t.Errorf("resource %+v: intent and created do not match", r)
		}
		seen[r.ID] = true
	}
	if len(seen) != n || run.lastSeq != 2*n+1 {
		t.Errorf("%d distinct resources in %d records, want %d in %d", len(seen), run.lastSeq, n, 2*n+1)
	}
}

func TestDefaultDir(t *testing.T) {
	tmp := t.TempDir()
	tests := []struct{ template, want string }{
		{"web.pkr.hcl", ".imgbuild"},
		{"templates/web.pkr.hcl", filepath.Join("templates", ".imgbuild")},
		{tmp, filepath.Join(tmp, ".imgbuild")}, // a directory of templates
	}
	for _, tt := range tests {
		if got := DefaultDir(tt.template); got != tt.want {
			t.Errorf("DefaultDir(%q) = %q, want %q", tt.template, got, tt.want)
		}
	}
}

func TestCreateExistingRun(t *testing.T) {
	dir, w := createRun(t, "exists")
	must(t, w.Close())
	_, err := Create(dir, Header{RunID: "exists"})
	if !errors.Is(err, os.ErrExist) || errors.Is(err, ErrLocked) {
		t.Errorf("Create of an existing, unlocked run: %v, want ErrExist", err)
	}
}

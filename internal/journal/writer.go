package journal

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Writer appends records to one run file, which it holds locked until
// Close. Its methods are safe for concurrent use; each writes one line and
// fsyncs the file before returning, so a record is durable once its method
// returns nil.
//
// After a failed write or sync every method returns that error: the file
// may end with a partial line, and the only safe course is to stop creating
// resources.
type Writer struct {
	mu    sync.Mutex
	f     *os.File
	path  string
	runID string
	seq   int64
	open  map[Ref]Resource // intents not yet resolved by Created or NotCreated
	ended bool
	err   error // sticky: the failed write, or Close
}

func newWriter(f *os.File, path, runID string) *Writer {
	return &Writer{f: f, path: path, runID: runID, open: map[Ref]Resource{}}
}

// RunID returns the ID of the run being written.
func (w *Writer) RunID() string { return w.runID }

// Path returns the run file's path.
func (w *Writer) Path() string { return w.path }

// Intent records that a create call for r is about to be made. Call it
// before the call, and pass the returned Ref to Created or NotCreated after
// it. r needs a Type and a Region, and should carry what cleanup needs to
// find the resource if the process dies before Created: its client token,
// name or tags.
func (w *Writer) Intent(r Resource) (Ref, error) {
	if r.Type == "" || r.Region == "" {
		return 0, fmt.Errorf("journal %s: intent needs a type and a region", w.path)
	}
	r = r.forRecord()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.appendLocked(record{Kind: kindIntent, Resource: &r}); err != nil {
		return 0, err
	}
	ref := Ref(w.seq)
	w.open[ref] = Resource{Type: r.Type, Region: r.Region, Build: r.Build}
	return ref, nil
}

// Created records the cloud ID the create call for ref returned. Call it as
// soon as the call returns, before waiting on the resource. extra lists
// resources the call created as a side effect (an image's snapshots), each
// with a Type and an ID; their Region and Build default to the intent's and
// their Parent to id.
func (w *Writer) Created(ref Ref, id string, extra ...Resource) error {
	if id == "" {
		return fmt.Errorf("journal %s: created record for intent %d needs an id", w.path, ref)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	in, ok := w.open[ref]
	if !ok {
		return fmt.Errorf("journal %s: no unresolved intent %d", w.path, ref)
	}
	xs := make([]Resource, len(extra))
	for i, x := range extra {
		if x.Type == "" || x.ID == "" {
			return fmt.Errorf("journal %s: resource created with %s needs a type and an id", w.path, id)
		}
		xs[i] = x.forRecord()
		xs[i].Region = cmp.Or(x.Region, in.Region)
		xs[i].Build = cmp.Or(x.Build, in.Build)
		xs[i].Parent = cmp.Or(x.Parent, id)
	}
	if err := w.appendLocked(record{Kind: kindCreated, Ref: ref, ID: id, Extra: xs}); err != nil {
		return err
	}
	delete(w.open, ref)
	return nil
}

// NotCreated records that the create call for ref created nothing: it
// failed in a way that rules out a resource, or cleanup looked for the
// resource by token, name and tags and found none.
func (w *Writer) NotCreated(ref Ref) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.open[ref]; !ok {
		return fmt.Errorf("journal %s: no unresolved intent %d", w.path, ref)
	}
	if err := w.appendLocked(record{Kind: kindNotCreated, Ref: ref}); err != nil {
		return err
	}
	delete(w.open, ref)
	return nil
}

// Deleted records that cleanup removed a resource or found it already gone.
func (w *Writer) Deleted(typ Type, region, id string) error {
	return w.settle(kindDeleted, typ, region, id)
}

// Kept records that a resource is the final output of a successful build
// (a final image or one of its snapshots, in any region): cleanup never
// touches it.
func (w *Writer) Kept(typ Type, region, id string) error {
	return w.settle(kindKept, typ, region, id)
}

func (w *Writer) settle(k kind, typ Type, region, id string) error {
	if typ == "" || region == "" || id == "" {
		return fmt.Errorf("journal %s: %s record needs a type, a region and an id", w.path, k)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.appendLocked(record{Kind: k, Resource: &Resource{Type: typ, Region: region, ID: id}})
}

// End records that the run ended cleanly: its builds finished (outcome
// OutcomeOK) or failed and their cleanup finished (OutcomeFailed). Nothing
// can be appended after it. End does not close the Writer.
func (w *Writer) End(outcome string) error {
	if outcome == "" {
		return fmt.Errorf("journal %s: end record needs an outcome", w.path)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.appendLocked(record{Kind: kindEnd, Outcome: outcome}); err != nil {
		return err
	}
	w.ended = true
	return nil
}

// Close releases the lock and closes the file. It does not write an end
// record: a run closed without End is one that cleanup will look at.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close() // closing the last descriptor releases the lock
	w.f = nil
	w.err = fmt.Errorf("journal %s is closed", w.path)
	if err != nil {
		return fmt.Errorf("close journal %s: %w", w.path, err)
	}
	return nil
}

// appendLocked writes rec as one line and fsyncs the file. w.mu is held.
func (w *Writer) appendLocked(rec record) error {
	if w.err != nil {
		return w.err
	}
	if w.ended {
		return fmt.Errorf("journal %s: run %s has ended", w.path, w.runID)
	}
	rec.Seq = w.seq + 1
	rec.Time = time.Now().UTC()
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("journal %s: encode %s record: %w", w.path, rec.Kind, err)
	}
	if _, err := w.f.Write(append(line, '\n')); err != nil {
		w.err = fmt.Errorf("append to journal %s: %w", w.path, err)
		return w.err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("sync journal %s: %w", w.path, err)
		return w.err
	}
	w.seq = rec.Seq
	return nil
}

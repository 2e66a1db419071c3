package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/google/uuid"
)

// DirName is the default state directory's name, created beside the
// template.
const DirName = ".imgbuild"

// runsDir is the subdirectory of a state directory holding run files.
const runsDir = "runs"

// lockWait is how long Create and Resume retry a held lock before failing:
// long enough to ride out List probing the file, short enough for a person.
const lockWait = 200 * time.Millisecond

var validRunID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// DefaultDir returns the default state directory for a template: DirName
// beside the template file, or inside it when templatePath is a directory.
func DefaultDir(templatePath string) string {
	if fi, err := os.Stat(templatePath); err == nil && fi.IsDir() {
		return filepath.Join(templatePath, DirName)
	}
	return filepath.Join(filepath.Dir(templatePath), DirName)
}

// RunPath returns the path of run runID's file in the state directory dir.
func RunPath(dir, runID string) string {
	return filepath.Join(dir, runsDir, runID+".jsonl")
}

func checkRunID(id string) error {
	if !validRunID.MatchString(id) {
		return fmt.Errorf("invalid run id %q: want letters, digits, '.', '_' or '-'", id)
	}
	return nil
}

// Create starts a new run in the state directory dir: it writes h as the
// header of a new run file, fsyncs the file and the directory, and returns
// a Writer holding the file locked. An empty h.RunID is replaced by a new
// UUID; h.PID, h.Hostname and h.Started are filled in when zero. Create
// fails if the run already exists, with a *LockedError when a live process
// holds it.
func Create(dir string, h Header) (*Writer, error) {
	if h.RunID == "" {
		h.RunID = uuid.NewString()
	}
	if err := checkRunID(h.RunID); err != nil {
		return nil, err
	}
	h.fillProcess()
	runs := filepath.Join(dir, runsDir)
	if err := os.MkdirAll(runs, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	path := RunPath(dir, h.RunID)
	w, err := publish(path, h)
	if err != nil {
		return nil, err
	}
	if err := syncDirs(runs, dir); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// publish writes the header to a locked temporary file and links it into
// place, so that a run file never exists without its header.
func publish(path string, h Header) (*Writer, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+uuid.NewString()+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	defer os.Remove(tmp) // once linked, path keeps the file; a leftover is harmless
	ok, err := tryLock(f, true)
	if err == nil && !ok {
		err = errors.New("held by another process")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock journal %s: %w", tmp, err)
	}
	w := newWriter(f, path, h.RunID)
	w.mu.Lock()
	err = w.appendLocked(record{Kind: kindHeader, Format: formatVersion, Header: &h})
	w.mu.Unlock()
	if err == nil {
		err = os.Link(tmp, path)
	}
	if err != nil {
		w.Close()
		if errors.Is(err, fs.ErrExist) {
			return nil, existsError(path, h.RunID)
		}
		return nil, fmt.Errorf("create journal %s: %w", path, err)
	}
	return w, nil
}

// existsError explains why Create cannot use path.
func existsError(path, runID string) error {
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		if alive, _ := probe(f); alive {
			return lockedError(path, runID)
		}
	}
	return fmt.Errorf("run %s already exists in %s; resume it instead: %w", runID, path, fs.ErrExist)
}

// Resume reopens an existing run in dir for appending, for example so that
// `imgbuild cleanup --run` can record deletions. It waits briefly for the
// lock and fails with a *LockedError if another process holds it. It drops
// a torn last line, then appends a resume record naming this process; that
// clears Run.Ended until End is written again. Read the run after Resume
// returns: with the lock held, what it shows is final.
func Resume(dir, runID string) (*Writer, error) {
	if err := checkRunID(runID); err != nil {
		return nil, err
	}
	path := RunPath(dir, runID)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("resume run %s: %w", runID, err)
	}
	w, err := resume(f, path, runID)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func resume(f *os.File, path, runID string) (*Writer, error) {
	if err := lockWaiting(f, path, runID); err != nil {
		return nil, err
	}
	run, valid, err := replay(f, path)
	if err != nil {
		return nil, fmt.Errorf("resume run %s: %w", runID, err)
	}
	if run.Header.RunID != runID {
		return nil, fmt.Errorf("resume run %s: %s holds run %q", runID, path, run.Header.RunID)
	}
	if run.TornTail {
		if err := truncate(f, valid); err != nil {
			return nil, fmt.Errorf("resume run %s: drop torn record of %s: %w", runID, path, err)
		}
	}
	w := newWriter(f, path, runID)
	w.seq = run.lastSeq
	for _, r := range run.Resources {
		if r.State == StateIntended {
			w.open[r.Ref] = Resource{Type: r.Type, Region: r.Region, Build: r.Build}
		}
	}
	h := Header{RunID: runID}
	h.fillProcess()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w, w.appendLocked(record{Kind: kindResume, Header: &h})
}

func truncate(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

// lockWaiting takes the exclusive lock on f, retrying for lockWait.
func lockWaiting(f *os.File, path, runID string) error {
	deadline := time.Now().Add(lockWait)
	for {
		ok, err := tryLock(f, true)
		if err != nil {
			return fmt.Errorf("lock journal %s: %w", path, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return lockedError(path, runID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

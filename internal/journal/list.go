package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RunInfo summarises one run file for `imgbuild cleanup`.
type RunInfo struct {
	RunID string
	Path  string
	// Header, Ended and Outcome are as in Run; zero when Err is set.
	Header  Header
	Ended   bool
	Outcome string
	// WriterAlive is true when a process holds the run's lock: it is still
	// building or cleaning up. The kernel releases the lock when a process
	// dies, so false means no process is writing the run.
	WriterAlive bool
	// Err is set when the run file cannot be read.
	Err error
}

// Orphaned reports whether the run needs `imgbuild cleanup`: its process
// is gone and it did not end cleanly.
func (i RunInfo) Orphaned() bool {
	return i.Err == nil && !i.WriterAlive && !i.Ended
}

// List describes every run in the state directory dir, oldest first. A
// run file that cannot be read is listed with Err set; List itself fails
// only when the directory cannot be read. A directory with no runs yet is
// not an error.
func List(dir string) ([]RunInfo, error) {
	runs := filepath.Join(dir, runsDir)
	entries, err := os.ReadDir(runs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var infos []RunInfo
	for _, e := range entries {
		name := e.Name()
		id, ok := strings.CutSuffix(name, ".jsonl")
		if !ok || strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
			continue
		}
		infos = append(infos, inspect(filepath.Join(runs, name), id))
	}
	sort.SliceStable(infos, func(a, b int) bool {
		return infos[a].Header.Started.Before(infos[b].Header.Started)
	})
	return infos, nil
}

// inspect probes the lock before reading: a run whose writer is gone at
// the probe cannot change before the read unless someone resumes it.
func inspect(path, id string) RunInfo {
	info := RunInfo{RunID: id, Path: path}
	f, err := os.Open(path)
	if err != nil {
		info.Err = fmt.Errorf("read journal: %w", err)
		return info
	}
	defer f.Close()
	if info.WriterAlive, err = probe(f); err != nil {
		info.Err = fmt.Errorf("probe lock of journal %s: %w", path, err)
		return info
	}
	run, _, err := replay(f, path)
	if err != nil {
		info.Err = err
		return info
	}
	info.Header, info.Ended, info.Outcome = run.Header, run.Ended, run.Outcome
	return info
}

package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// file is the manifest file. Builds stay raw so entries written by Packer
// or another version keep every field they had.
type file struct {
	Builds      []json.RawMessage `json:"builds"`
	LastRunUUID string            `json:"last_run_uuid"`
}

// locks holds one *sync.Mutex per manifest path, so builds of one run
// that post-process concurrently append one after the other.
var locks sync.Map

func lock(path string) func() {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	mu, _ := locks.LoadOrStore(path, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// appendBuild adds b to the manifest at path, creating the file if it does
// not exist, and records runID as the last run.
func appendBuild(path string, b Build, runID string) error {
	entry, err := json.Marshal(b)
	if err != nil {
		return err
	}
	defer lock(path)()
	var m file
	switch data, err := os.ReadFile(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("parse existing manifest: %w", err)
		}
	}
	m.Builds = append(m.Builds, entry)
	m.LastRunUUID = runID
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	return writeAtomic(path, out.Bytes())
}

// writeAtomic writes data to a temporary file next to path and renames it
// over path, so readers see the old or the new manifest, never a part.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

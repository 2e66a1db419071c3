package guest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Store keeps content layers in a directory, each named by the SHA-256 of
// its content, and deletes a layer once nothing holds it. Holders are
// named by the caller (an image, a snapshot, an instance); each holds a
// stack of layers, bottom first.
type Store struct {
	dir string

	mu    sync.Mutex
	holds map[string][]string // holder -> stack
}

// NewStore returns a store keeping its layers in dir.
func NewStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create layer store: %w", err)
	}
	return &Store{dir: dir, holds: map[string][]string{}}, nil
}

// Path returns the directory of a layer.
func (s *Store) Path(layer string) string { return filepath.Join(s.dir, layer) }

// Lowers returns the overlay lower directories of a stack, topmost first,
// ending with base.
func (s *Store) Lowers(stack []string, base string) []string {
	out := make([]string, 0, len(stack)+1)
	for i := len(stack) - 1; i >= 0; i-- {
		out = append(out, s.Path(stack[i]))
	}
	if base == "" {
		return out
	}
	return append(out, base)
}

// Hold records that holder uses stack (replacing what it held).
func (s *Store) Hold(holder string, stack []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds[holder] = append([]string(nil), stack...)
}

// Stack returns what holder holds.
func (s *Store) Stack(holder string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.holds[holder]
	return st, ok
}

// Release drops holder's hold and deletes the layers nobody holds any more.
func (s *Store) Release(holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stack, ok := s.holds[holder]
	if !ok {
		return nil
	}
	delete(s.holds, holder)
	used := map[string]bool{}
	for _, st := range s.holds {
		for _, l := range st {
			used[l] = true
		}
	}
	for _, l := range stack {
		if !used[l] {
			if err := os.RemoveAll(s.Path(l)); err != nil {
				return fmt.Errorf("delete layer %s: %w", l, err)
			}
		}
	}
	return nil
}

// Capture copies upper (an overlay upper directory) into the store as a
// layer on top of below and has holder hold the new stack, which it
// returns. An unchanged disk (empty upper) adds no layer; content the
// store has already is not kept twice.
func (s *Store) Capture(holder string, below []string, upper string) ([]string, error) {
	entries, err := os.ReadDir(upper)
	if err != nil {
		return nil, fmt.Errorf("read the disk to capture: %w", err)
	}
	stack := append([]string(nil), below...)
	if len(entries) == 0 {
		s.Hold(holder, stack)
		return stack, nil
	}
	tmp, err := os.MkdirTemp(s.dir, ".capture-")
	if err != nil {
		return nil, fmt.Errorf("capture disk: %w", err)
	}
	// cp -a keeps owners, modes, device nodes (overlay whiteouts), hard
	// links and extended attributes (opaque directories).
	if out, err := exec.Command("cp", "-a", upper+"/.", tmp+"/").CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("copy the disk %s: %v: %s", upper, err, strings.TrimSpace(string(out)))
	}
	sum, err := treeHash(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(s.Path(sum)); err == nil {
		os.RemoveAll(tmp)
	} else if err := os.Rename(tmp, s.Path(sum)); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("store layer %s: %w", sum, err)
	}
	stack = append(stack, sum)
	s.holds[holder] = stack
	return append([]string(nil), stack...), nil
}

// Layers lists the layers on disk.
func (s *Store) Layers() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// treeHash is a SHA-256 over every entry of dir in name order: path, type
// and mode, owner, device number, link target, overlay attributes and
// content. It names a layer (24 hex digits).
func treeHash(dir string) (string, error) {
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read captured layer: %w", err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, p)
		uid, gid, rdev := owner(fi)
		fmt.Fprintf(h, "%q %v %d %d %d", rel, fi.Mode(), uid, gid, rdev)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, " -> %q", target)
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return "", err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", err
			}
		case fi.IsDir():
			fmt.Fprintf(h, " opaque=%s", opaque(p))
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

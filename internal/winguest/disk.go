package winguest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

// disk is the guest's file system: the instance's writable directory over
// the image's read-only layers (top first). A path is looked up in the
// writable directory, then in each layer in order; writes go to the
// writable directory only. Deleting a file removes it from the writable
// directory; a copy in a layer below shows again (no whiteouts).
type disk struct {
	mu     sync.Mutex // serialises writes, so appends from parallel commands do not interleave
	upper  string
	lowers []string
}

// lookup returns the host path and information of the topmost copy of p,
// or fs.ErrNotExist.
func (d *disk) lookup(p winPath) (string, fs.FileInfo, error) {
	for _, dir := range d.layers() {
		host := p.under(dir)
		info, err := os.Stat(host)
		if err == nil {
			return host, info, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) && !isNotDir(err) {
			return "", nil, err
		}
	}
	return "", nil, fs.ErrNotExist
}

func (d *disk) layers() []string { return append([]string{d.upper}, d.lowers...) }

// isNotDir reports an ENOTDIR: a file where a directory of the path was
// expected, which means the path does not exist.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// isDir reports whether p is a directory.
func (d *disk) isDir(p winPath) bool {
	_, info, err := d.lookup(p)
	return err == nil && info.IsDir()
}

// isFile reports whether p is a regular file.
func (d *disk) isFile(p winPath) bool {
	_, info, err := d.lookup(p)
	return err == nil && info.Mode().IsRegular()
}

// open opens the file p for reading.
func (d *disk) open(p winPath) (*os.File, error) {
	host, info, err := d.lookup(p)
	switch {
	case err != nil:
		return nil, err
	case info.IsDir():
		return nil, fmt.Errorf("%s is a directory", p)
	}
	return os.Open(host)
}

// readFile returns the content of the file p.
func (d *disk) readFile(p winPath) ([]byte, error) {
	f, err := d.open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// create opens p in the writable directory for writing, replacing it and
// creating its parent directories. The caller closes the file.
func (d *disk) create(p winPath) (*os.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	host := p.under(d.upper)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return nil, err
	}
	return os.Create(host)
}

// appendFile adds data to the end of the file p, creating it (and its
// parents) if missing. A file only in a lower layer is copied up first.
func (d *disk) appendFile(p winPath, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	host := p.under(d.upper)
	if _, err := os.Stat(host); errors.Is(err, fs.ErrNotExist) {
		if err := d.copyUp(p, host); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(host, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyUp copies the topmost lower copy of p, if any, to host in the
// writable directory, and creates host's parents in any case.
func (d *disk) copyUp(p winPath, host string) error {
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return err
	}
	for _, dir := range d.lowers {
		src, err := os.Open(p.under(dir))
		if err != nil {
			continue
		}
		defer src.Close()
		dst, err := os.Create(host)
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return err
		}
		return dst.Close()
	}
	return nil
}

// mkdirAll creates the directory p and its parents in the writable
// directory.
func (d *disk) mkdirAll(p winPath) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return os.MkdirAll(p.under(d.upper), 0o755)
}

// remove deletes the file p from the writable directory, if it is there.
func (d *disk) remove(p winPath) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := os.Remove(p.under(d.upper))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// entry is one item of a directory listing.
type entry struct {
	parts []string // path relative to the listed directory
	dir   bool
	size  int64
}

// list returns everything under the directory p, merged over the layers
// (a name in a higher layer hides the same name below, and a file hides
// a directory's contents below), sorted so that a directory comes before
// its entries.
func (d *disk) list(p winPath) ([]entry, error) {
	seen := map[string]entry{}
	for _, dir := range d.layers() {
		root := p.under(dir)
		if info, err := os.Stat(root); err != nil || !info.IsDir() {
			continue
		}
		err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
			if err != nil || path == root {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			key := filepath.ToSlash(rel)
			if hiddenBy(seen, key) {
				if de.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if _, ok := seen[key]; ok {
				return nil
			}
			e := entry{parts: strings.Split(key, "/"), dir: de.IsDir()}
			if !e.dir {
				info, err := de.Info()
				if err != nil {
					return err
				}
				e.size = info.Size()
			}
			seen[key] = e
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	entries := make([]entry, 0, len(seen))
	for _, e := range seen {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return lessParts(entries[i].parts, entries[j].parts) })
	return entries, nil
}

// hiddenBy reports whether a higher layer has a file at one of key's
// parent directories.
func hiddenBy(seen map[string]entry, key string) bool {
	for i := strings.Index(key, "/"); i >= 0; i = nextSlash(key, i) {
		if e, ok := seen[key[:i]]; ok && !e.dir {
			return true
		}
	}
	return false
}

func nextSlash(s string, i int) int {
	j := strings.Index(s[i+1:], "/")
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// lessParts orders paths component by component, so a directory sorts
// right before its entries.
func lessParts(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

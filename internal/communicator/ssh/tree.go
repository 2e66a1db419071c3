package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// treeWriter receives a directory tree depth first, in the order of the
// scp protocol: enterDir, the directory's files and subdirectories, then
// leaveDir. Producers (walkLocal, walkSFTP, scpReceive) always start with
// the tree's top directory; writers configured with contentsOnly put its
// entries directly into their root instead of into root/<name>.
type treeWriter interface {
	enterDir(name string, mode fs.FileMode) error
	leaveDir() error
	// writeFile stores exactly size bytes read from r as name.
	writeFile(name string, mode fs.FileMode, size int64, r io.Reader) error
}

// checkName rejects entry names that could escape the target directory;
// names come from the remote side when downloading.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00\n") {
		return fmt.Errorf("unsafe file name %q in transfer", name)
	}
	return nil
}

// walkLocal sends the local directory dir and everything under it to tw.
// Symbolic links to files are copied as files; other links and special
// files are an error.
func walkLocal(ctx context.Context, dir string, tw treeWriter) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return walkLocalDir(ctx, abs, filepath.Base(abs), info.Mode().Perm(), tw)
}

func walkLocalDir(ctx context.Context, dir, name string, mode fs.FileMode, tw treeWriter) error {
	if err := tw.enterDir(name, mode); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		full := filepath.Join(dir, e.Name())
		info, err := os.Stat(full) // follows links
		switch {
		case err != nil:
			return err
		case info.IsDir() && e.Type()&fs.ModeSymlink == 0:
			err = walkLocalDir(ctx, full, e.Name(), info.Mode().Perm(), tw)
		case info.Mode().IsRegular():
			err = sendLocalFile(full, e.Name(), info, tw)
		default:
			err = fmt.Errorf("%s: cannot copy %s", full, describeType(e.Type()|info.Mode().Type()))
		}
		if err != nil {
			return err
		}
	}
	return tw.leaveDir()
}

func sendLocalFile(full, name string, info fs.FileInfo, tw treeWriter) error {
	f, err := os.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	return tw.writeFile(name, info.Mode().Perm(), info.Size(), f)
}

func describeType(m fs.FileMode) string {
	if m&fs.ModeSymlink != 0 {
		return "a symbolic link to a directory"
	}
	return "a special file (" + m.String() + ")"
}

// localTree writes a tree under root on the local file system. Modes are
// applied after a directory's contents are written, so read-only
// directories can be filled.
type localTree struct {
	root         string
	contentsOnly bool
	stack        []treeDir
}

// treeDir is a directory being filled; keep means leave its mode alone
// (the pre-existing root of a contentsOnly copy).
type treeDir struct {
	path string
	mode fs.FileMode
	keep bool
}

func (t *localTree) cwd() string { return t.stack[len(t.stack)-1].path }

func (t *localTree) enterDir(name string, mode fs.FileMode) error {
	if len(t.stack) == 0 && t.contentsOnly {
		t.stack = append(t.stack, treeDir{path: t.root, keep: true})
		return nil
	}
	parent := t.root
	if len(t.stack) > 0 {
		parent = t.cwd()
	}
	if err := checkName(name); err != nil {
		return err
	}
	p := filepath.Join(parent, name)
	if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	t.stack = append(t.stack, treeDir{path: p, mode: mode})
	return nil
}

func (t *localTree) leaveDir() error {
	if len(t.stack) == 0 {
		return errors.New("unbalanced end of directory in transfer")
	}
	d := t.stack[len(t.stack)-1]
	t.stack = t.stack[:len(t.stack)-1]
	if d.keep {
		return nil
	}
	return os.Chmod(d.path, d.mode)
}

func (t *localTree) writeFile(name string, mode fs.FileMode, size int64, r io.Reader) error {
	if len(t.stack) == 0 {
		return fmt.Errorf("source is a file, not a directory")
	}
	if err := checkName(name); err != nil {
		return err
	}
	p := filepath.Join(t.cwd(), name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

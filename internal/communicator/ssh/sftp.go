package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/pkg/sftp"
)

// sftpTransfer moves files over one SFTP session.
type sftpTransfer struct{ sc *sftp.Client }

func (t sftpTransfer) upload(_ context.Context, dst string, r io.Reader, mode fs.FileMode) error {
	return putSFTP(t.sc, dst, r, mode)
}

// putSFTP writes r to the remote file dst and sets its mode.
func putSFTP(sc *sftp.Client, dst string, r io.Reader, mode fs.FileMode) error {
	f, err := sc.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return sc.Chmod(dst, mode.Perm())
}

func (t sftpTransfer) uploadTree(ctx context.Context, dst, src string, contentsOnly bool) error {
	if err := t.sc.MkdirAll(dst); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	return walkLocal(ctx, src, &sftpTree{sc: t.sc, root: dst, contentsOnly: contentsOnly})
}

func (t sftpTransfer) download(_ context.Context, src string, w io.Writer) error {
	f, err := t.sc.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteTo(w)
	return err
}

func (t sftpTransfer) downloadTree(ctx context.Context, src, dst string, contentsOnly bool) error {
	info, err := t.sc.Stat(src)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	tree := &localTree{root: dst, contentsOnly: contentsOnly}
	return walkSFTP(ctx, t.sc, src, path.Base(src), info.Mode().Perm(), tree)
}

// walkSFTP sends the remote directory dir and everything under it to tw,
// with the same rules for links as walkLocal.
func walkSFTP(ctx context.Context, sc *sftp.Client, dir, name string, mode fs.FileMode, tw treeWriter) error {
	if err := tw.enterDir(name, mode); err != nil {
		return err
	}
	entries, err := sc.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		full := path.Join(dir, e.Name())
		info := e
		if e.Mode()&fs.ModeSymlink != 0 {
			if info, err = sc.Stat(full); err != nil {
				return err
			}
		}
		switch {
		case info.IsDir() && e.Mode()&fs.ModeSymlink == 0:
			err = walkSFTP(ctx, sc, full, e.Name(), info.Mode().Perm(), tw)
		case info.Mode().IsRegular():
			err = sendSFTPFile(sc, full, e.Name(), info, tw)
		default:
			err = fmt.Errorf("%s: cannot copy %s", full, describeType(e.Mode().Type()|info.Mode().Type()))
		}
		if err != nil {
			return err
		}
	}
	return tw.leaveDir()
}

func sendSFTPFile(sc *sftp.Client, full, name string, info fs.FileInfo, tw treeWriter) error {
	f, err := sc.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	return tw.writeFile(name, info.Mode().Perm(), info.Size(), f)
}

// sftpTree writes a tree under root on the remote side; see localTree.
type sftpTree struct {
	sc           *sftp.Client
	root         string
	contentsOnly bool
	stack        []treeDir
}

func (t *sftpTree) enterDir(name string, mode fs.FileMode) error {
	if len(t.stack) == 0 && t.contentsOnly {
		t.stack = append(t.stack, treeDir{path: t.root, keep: true})
		return nil
	}
	parent := t.root
	if len(t.stack) > 0 {
		parent = t.stack[len(t.stack)-1].path
	}
	p := path.Join(parent, name)
	if err := t.sc.Mkdir(p); err != nil {
		if info, serr := t.sc.Stat(p); serr != nil || !info.IsDir() {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	t.stack = append(t.stack, treeDir{path: p, mode: mode})
	return nil
}

func (t *sftpTree) leaveDir() error {
	if len(t.stack) == 0 {
		return errors.New("unbalanced end of directory in transfer")
	}
	d := t.stack[len(t.stack)-1]
	t.stack = t.stack[:len(t.stack)-1]
	if d.keep {
		return nil
	}
	return t.sc.Chmod(d.path, d.mode)
}

func (t *sftpTree) writeFile(name string, mode fs.FileMode, size int64, r io.Reader) error {
	p := path.Join(t.stack[len(t.stack)-1].path, name)
	return putSFTP(t.sc, p, io.LimitReader(r, size), mode)
}

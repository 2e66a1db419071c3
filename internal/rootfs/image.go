package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/Microsoft/hcsshim/ext4/tar2ext4"
)

// Image reads a tar stream of a root file system, leaves out what exclude
// matches (nil keeps everything; a directory left out takes its subtree),
// and writes an ext4 image of the rest to a new temporary file in dir. It
// returns the file positioned at its start and its size; the caller closes
// and removes it. Member names may start with "./" or "/".
func Image(ctx context.Context, stream io.Reader, dir string, exclude func(*tar.Header) bool) (*os.File, int64, error) {
	f, err := os.CreateTemp(dir, "imgbuild-rootfs-*.ext4")
	if err != nil {
		return nil, 0, fmt.Errorf("create the image file: %w", err)
	}
	fail := func(err error) (*os.File, int64, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := filter(ctx, stream, pw, exclude)
		pw.CloseWithError(err)
		done <- err
	}()
	convErr := tar2ext4.Convert(pr, f)
	pr.CloseWithError(errors.New("image conversion stopped"))
	filterErr := <-done
	switch {
	case filterErr != nil:
		return fail(filterErr)
	case convErr != nil:
		return fail(fmt.Errorf("write the ext4 image: %w", convErr))
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fail(fmt.Errorf("image file: %w", err))
	}
	return f, size, nil
}

// filter copies the tar stream from r to w with clean relative names,
// without the root entry and without what exclude matches.
func filter(ctx context.Context, r io.Reader, w io.Writer, exclude func(*tar.Header) bool) error {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	var skipped []string // directories left out, as "name/"
	left := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			// Read the archive's padding too: a writer on the other end
			// of a pipe (tar over SSH) must see its output consumed.
			if _, err := io.Copy(io.Discard, r); err != nil {
				return fmt.Errorf("read the root file system stream: %w", err)
			}
			break
		}
		if err != nil {
			return fmt.Errorf("read the root file system stream: %w", err)
		}
		name := clean(h.Name)
		if name == "" {
			continue
		}
		h.Name = name
		if h.Typeflag == tar.TypeLink {
			h.Linkname = clean(h.Linkname)
		}
		if under(name, skipped) || (h.Typeflag == tar.TypeLink && left[h.Linkname]) || (exclude != nil && exclude(h)) {
			if h.Typeflag == tar.TypeDir {
				skipped = append(skipped, name+"/")
			}
			left[name] = true
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("read %s from the root file system stream: %w", name, err)
		}
	}
	return tw.Close()
}

func clean(name string) string {
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

func under(name string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(name, d) {
			return true
		}
	}
	return false
}

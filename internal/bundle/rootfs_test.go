package bundle

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// benchUsedShare is the share of the benchmark's image that holds file
// data; the rest is free space (zeros), as in a root file system 60% full.
const benchUsedShare = 0.6

// writeRootfsImage writes a size-byte stand-in for a root file-system
// image to path: the regular files under src (taken in lexical order, each
// padded to 4 KiB blocks as a file system stores them, src walked again if
// it runs out) up to benchUsedShare of size, then free space as zeros. It
// is neither all zeros nor random: executables, libraries, text and
// already-compressed files, in the mix a real root holds. The zeros are
// written, not left as holes, so every bundler reads the same bytes.
func writeRootfsImage(path, src string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	used := int64(float64(size) * benchUsedShare)
	var n int64
	block := make([]byte, 4096)
	for n < used {
		before := n
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil // unreadable directories are skipped, as are links and devices
			}
			r, err := os.Open(p)
			if err != nil {
				return nil
			}
			defer r.Close()
			c, _ := io.Copy(w, io.LimitReader(r, used-n))
			n += c
			if pad := (4096 - c%4096) % 4096; pad > 0 && n+pad <= used {
				w.Write(block[:pad])
				n += pad
			}
			if n >= used {
				return filepath.SkipAll
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n == before {
			return fmt.Errorf("no readable files under %s", src)
		}
	}
	clear(block)
	for n < size {
		c := min(int64(len(block)), size-n)
		w.Write(block[:c])
		n += c
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

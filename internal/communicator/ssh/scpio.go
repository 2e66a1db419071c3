package ssh

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/imgbuild/imgbuild/internal/provision"
)

// parseRecord parses a "C0644 12 name\n" or "D0755 0 name\n" scp record.
func parseRecord(line string) (mode fs.FileMode, size int64, name string, err error) {
	fields := strings.SplitN(strings.TrimSuffix(line[1:], "\n"), " ", 3)
	if len(fields) != 3 {
		return 0, 0, "", fmt.Errorf("malformed scp record %q", strings.TrimSpace(line))
	}
	m, err := strconv.ParseUint(fields[0], 8, 32)
	if err != nil {
		return 0, 0, "", fmt.Errorf("malformed mode in scp record %q", strings.TrimSpace(line))
	}
	size, err = strconv.ParseInt(fields[1], 10, 64)
	if err != nil || size < 0 {
		return 0, 0, "", fmt.Errorf("malformed size in scp record %q", strings.TrimSpace(line))
	}
	if err := checkName(fields[2]); err != nil {
		return 0, 0, "", err
	}
	return fs.FileMode(m).Perm(), size, fields[2], nil
}

// singleFile is the treeWriter for downloading one file to a writer.
type singleFile struct {
	w    io.Writer
	done bool
}

func (s *singleFile) enterDir(name string, _ fs.FileMode) error {
	return fmt.Errorf("%s is a directory", name)
}

func (s *singleFile) leaveDir() error { return fmt.Errorf("unexpected end of directory") }

func (s *singleFile) writeFile(_ string, _ fs.FileMode, size int64, r io.Reader) error {
	if s.done {
		return fmt.Errorf("remote scp sent more than one file")
	}
	s.done = true
	_, err := io.CopyN(s.w, r, size)
	return err
}

// sized returns the number of bytes r will yield, and a reader for them.
// The scp protocol sends the size before the content, so a reader of
// unknown length is first spooled to a temporary file, which cleanup
// removes.
func sized(r io.Reader) (int64, io.Reader, func(), error) {
	if l, ok := r.(interface{ Len() int }); ok { // bytes.Reader, bytes.Buffer, strings.Reader
		return int64(l.Len()), r, func() {}, nil
	}
	tmp, err := os.CreateTemp("", "imgbuild-scp-*")
	if err != nil {
		return 0, nil, nil, fmt.Errorf("spool upload for scp: %w", err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	size, err := io.Copy(tmp, r)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return 0, nil, nil, fmt.Errorf("spool upload for scp: %w", err)
	}
	return size, tmp, cleanup, nil
}

// stderrSuffix returns " (remote stderr: <stderr>)", or "" when nothing
// was written.
func stderrSuffix(t *provision.TailBuffer) string {
	if s := t.String(); s != "" {
		return " (remote stderr: " + s + ")"
	}
	return ""
}

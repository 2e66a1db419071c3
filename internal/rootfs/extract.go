package rootfs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Extract copies the tree of the ext4 image at image into dir, which must
// exist, with debugfs (e2fsprogs). Owners are kept when the caller may
// chown (root). debugfs restores a file's mode before its owner, which
// clears setuid and setgid, so those bits are read from the image and set
// again afterwards. Device nodes and FIFOs are not copied.
func Extract(ctx context.Context, image, dir string) error {
	debugfs, err := exec.LookPath("debugfs")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/debugfs"); serr != nil {
			return fmt.Errorf("extract the image: debugfs (e2fsprogs) is not installed")
		}
		debugfs = "/usr/sbin/debugfs"
	}
	out, err := exec.CommandContext(ctx, debugfs, "-R", "rdump / "+dir, image).CombinedOutput()
	if err != nil {
		return fmt.Errorf("extract the image with debugfs: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return restoreSpecialBits(ctx, debugfs, image, dir)
}

// listLine is one entry of debugfs "ls -l": inode, octal mode, (type), uid,
// gid, size, date, time, name.
var listLine = regexp.MustCompile(`^\s*\d+\s+([0-7]+)\s+\(\d+\)\s+\d+\s+\d+\s+\S+\s+\S+\s+\S+\s(.*)$`)

// restoreSpecialBits lists every directory of the extracted tree in one
// debugfs run and sets setuid and setgid again where the image has them.
func restoreSpecialBits(ctx context.Context, debugfs, image, dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			dirs = append(dirs, "/"+strings.TrimPrefix(filepath.ToSlash(rel), "."))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the extracted tree: %w", err)
	}
	var script bytes.Buffer
	for _, d := range dirs {
		if strings.ContainsAny(d, "\"\n") {
			continue // debugfs cannot quote these; such names hold no system binaries
		}
		fmt.Fprintf(&script, "ls -l \"%s\"\n", d)
	}
	cmd := exec.CommandContext(ctx, debugfs, "-f", "-", image)
	cmd.Stdin = &script
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("list the image with debugfs: %w", err)
	}
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(strings.Replace(line, "debugfs:  ", "debugfs: ", 1), "debugfs: ls -l "); ok {
			current = strings.Trim(rest, "\"")
			continue
		}
		m := listLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		mode, err := strconv.ParseUint(m[1], 8, 32)
		if err != nil || mode&0o6000 == 0 || mode&0o170000 != 0o100000 {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(path.Join(current, m[2])))
		perm := fs.FileMode(mode & 0o777)
		if mode&0o4000 != 0 {
			perm |= fs.ModeSetuid
		}
		if mode&0o2000 != 0 {
			perm |= fs.ModeSetgid
		}
		if err := os.Chmod(p, perm); err != nil {
			return fmt.Errorf("restore the mode of %s: %w", p, err)
		}
	}
	return sc.Err()
}

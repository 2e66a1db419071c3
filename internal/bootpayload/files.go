package bootpayload

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/file"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

// entry is one file a file provisioner writes.
type entry struct {
	dst  string
	data []byte
	mode fs.FileMode
}

// fileEntries reads what a file provisioner uploads, with the file
// provisioner's destination rules: content goes to destination; a file
// source to destination, or into it when destination ends in "/" or there
// are several sources; a directory "dir/" puts its contents into
// destination, "dir" itself.
func fileEntries(baseDir string, c *file.Config, windows bool) ([]entry, error) {
	if c.Direction == file.Download {
		return nil, errors.New("a download cannot be deferred to a boot payload")
	}
	if !absolute(c.Destination, windows) {
		return nil, fmt.Errorf("destination %q is not an absolute path: a boot payload runs from no particular directory", c.Destination)
	}
	if len(c.Sources) == 0 {
		return []entry{{dst: c.Destination, data: []byte(c.Content), mode: 0o644}}, nil
	}
	var out []entry
	for _, src := range c.Sources {
		local := check.Resolve(baseDir, src)
		fi, err := os.Stat(local)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		if !fi.IsDir() {
			dst := c.Destination
			if strings.HasSuffix(dst, "/") || strings.HasSuffix(dst, `\`) || len(c.Sources) > 1 {
				dst = join(dst, filepath.Base(local))
			}
			data, err := os.ReadFile(local)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", src, err)
			}
			out = append(out, entry{dst: dst, data: data, mode: fi.Mode().Perm()})
			continue
		}
		root := c.Destination
		if !strings.HasSuffix(src, "/") {
			root = join(root, filepath.Base(local))
		}
		dir, err := dirEntries(local, root)
		if err != nil {
			return nil, fmt.Errorf("read directory %s: %w", src, err)
		}
		out = append(out, dir...)
	}
	return out, nil
}

// dirEntries reads every regular file under local, to be written under root.
func dirEntries(local, root string) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		out = append(out, entry{dst: join(root, filepath.ToSlash(rel)), data: data, mode: fi.Mode().Perm()})
		return nil
	})
	return out, err
}

// join joins a remote directory and a relative slash path.
func join(dir, rel string) string {
	if strings.HasSuffix(dir, `\`) {
		return dir + strings.ReplaceAll(rel, "/", `\`)
	}
	return path.Join(dir, rel)
}

// parent returns the directory of a remote path, either separator.
func parent(p string) string {
	i := strings.LastIndexAny(p, `/\`)
	switch {
	case i < 0:
		return "."
	case i == 0 || i == 2 && p[1] == ':':
		return p[:i+1] // "/" or "C:\"
	}
	return p[:i]
}

func absolute(p string, windows bool) bool {
	if !windows {
		return strings.HasPrefix(p, "/")
	}
	if strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, "//") {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

// scripts returns the scripts a shell or powershell provisioner runs: the
// inline commands as one script, or the contents of script/scripts.
func scripts(baseDir string, src script.Source, inline func([]string) string, crlfToLF bool) ([][]byte, error) {
	if len(src.Inline) > 0 {
		return [][]byte{[]byte(inline(src.Inline))}, nil
	}
	out := make([][]byte, 0, len(src.Scripts))
	for _, p := range src.Scripts {
		body, err := os.ReadFile(check.Resolve(baseDir, p))
		if err != nil {
			return nil, fmt.Errorf("read script: %w", err)
		}
		if crlfToLF {
			body = []byte(strings.ReplaceAll(string(body), "\r\n", "\n"))
		}
		out = append(out, body)
	}
	return out, nil
}

// scriptName says which script i of a provisioner is, for comments: its
// path relative to the template directory, so that the payload names no
// directory of the build host and does not change with the checkout.
func scriptName(src script.Source, i int, baseDir string) string {
	if len(src.Inline) > 0 {
		return "inline script"
	}
	return "script " + strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, Relative(baseDir, src.Scripts[i]))
}

// Relative returns path relative to baseDir when it lies under it, else
// path as it is.
func Relative(baseDir, path string) string {
	if baseDir == "" || !filepath.IsAbs(path) {
		return path
	}
	rel, err := filepath.Rel(baseDir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return rel
}

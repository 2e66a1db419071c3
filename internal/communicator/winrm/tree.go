package winrm

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// UploadDir copies the local directory src into the directory dst on the
// instance, recursively; dst and its parents are created if missing. As
// in Packer and rsync, "src/" (trailing slash) copies the contents of src
// into dst, while "src" creates dst\<base of src>. Symbolic links to
// files are copied as files; links to directories and special files are
// an error. Windows has no permission bits: modes are not copied.
func (c *Client) UploadDir(ctx context.Context, dst, src string) error {
	contentsOnly := strings.HasSuffix(src, "/") || strings.HasSuffix(src, string(filepath.Separator))
	abs, err := filepath.Abs(src)
	if err == nil {
		var info os.FileInfo
		if info, err = os.Stat(abs); err == nil && !info.IsDir() {
			err = fmt.Errorf("%s is not a directory", src)
		}
	}
	if err != nil {
		return fmt.Errorf("upload %s to %s:%s: %w", src, c.opts.addr(), dst, err)
	}
	root := dst
	if !contentsOnly {
		root = joinRemote(dst, filepath.Base(abs))
	}
	return c.withShell(ctx, "upload "+src+" to "+dst, func(ctx context.Context, sh *shell) error {
		return uploadTree(ctx, sh, abs, root)
	})
}

// uploadTree creates root and every directory under dir in it, and
// uploads every file.
func uploadTree(ctx context.Context, sh *shell, dir, root string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		remote := root
		if rel != "." {
			remote = joinRemote(root, filepath.ToSlash(rel))
		}
		info, err := os.Stat(path) // follows links
		switch {
		case err != nil:
			return err
		case d.IsDir():
			if err := sh.tool(ctx, nil, OpMkdir, mkdirBody, Var{"path", remote}); err != nil {
				return fmt.Errorf("create %s: %w", remote, err)
			}
			return nil
		case info.Mode().IsRegular():
			return uploadFile(ctx, sh, path, remote)
		case info.IsDir():
			return fmt.Errorf("%s: cannot copy a symbolic link to a directory", path)
		}
		return fmt.Errorf("%s: cannot copy a special file (%s)", path, info.Mode().Type())
	})
}

func uploadFile(ctx context.Context, sh *shell, path, remote string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := upload(ctx, sh, remote, f); err != nil {
		return fmt.Errorf("upload %s to %s: %w", path, remote, err)
	}
	return nil
}

// DownloadDir copies the directory src on the instance into the local
// directory dst with the same trailing-slash rule as [Client.UploadDir]
// ("\" counts as a trailing slash too). Files get mode 0644, directories
// 0755.
func (c *Client) DownloadDir(ctx context.Context, src, dst string) error {
	contentsOnly := strings.HasSuffix(src, "/") || strings.HasSuffix(src, `\`)
	src = strings.TrimRight(src, `/\`)
	if src == "" || strings.HasSuffix(src, ":") {
		src += `\` // a drive's root
	}
	root := dst
	if !contentsOnly {
		base := remoteBase(src)
		if err := checkName(base); err != nil {
			return fmt.Errorf("download %s from %s: name the directory's contents with a trailing slash: %w", src, c.opts.addr(), err)
		}
		root = filepath.Join(dst, base)
	}
	return c.withShell(ctx, "download "+src+" to "+dst, func(ctx context.Context, sh *shell) error {
		return downloadTree(ctx, sh, src, root)
	})
}

// downloadTree lists src and downloads every file under it into root.
func downloadTree(ctx context.Context, sh *shell, src, root string) error {
	var listing strings.Builder
	if err := sh.tool(ctx, &listing, OpList, listBody, Var{"path", src}); err != nil {
		return err
	}
	entries, err := parseList(listing.String())
	if err != nil {
		return fmt.Errorf("list %s: %w", src, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		local := filepath.Join(append([]string{root}, e.parts...)...)
		if e.dir {
			if err := os.MkdirAll(local, 0o755); err != nil {
				return err
			}
			continue
		}
		remote := joinRemote(src, strings.Join(e.parts, `\`))
		if err := downloadFile(ctx, sh, remote, local); err != nil {
			return err
		}
	}
	return nil
}

func downloadFile(ctx context.Context, sh *shell, remote, local string) error {
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := download(ctx, sh, remote, f); err != nil {
		f.Close()
		return fmt.Errorf("download %s: %w", remote, err)
	}
	return f.Close()
}

// listEntry is one line of the list script's output.
type listEntry struct {
	dir   bool
	size  int64
	parts []string // path components relative to the listed directory
}

// parseList reads "d <path>" and "f <size> <path>" lines, rejecting paths
// that could escape the target directory.
func parseList(out string) ([]listEntry, error) {
	var entries []listEntry
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		var e listEntry
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "d":
			e.dir = true
		case "f":
			size, name, ok := strings.Cut(rest, " ")
			n, err := strconv.ParseInt(size, 10, 64)
			if !ok || err != nil {
				return nil, fmt.Errorf("unexpected line %q", line)
			}
			e.size, rest = n, name
		default:
			return nil, fmt.Errorf("unexpected line %q", line)
		}
		e.parts = strings.Split(rest, `\`)
		for _, p := range e.parts {
			if err := checkName(p); err != nil {
				return nil, err
			}
		}
		entries = append(entries, e)
	}
	return entries, sc.Err()
}

// checkName rejects entry names that could escape the target directory;
// names come from the instance when downloading.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\:\x00\n") {
		return fmt.Errorf("unsafe file name %q in transfer", name)
	}
	return nil
}

// joinRemote joins a Windows directory path and a relative path written
// with "/" or "\".
func joinRemote(dir, rel string) string {
	return strings.TrimRight(dir, `/\`) + `\` + strings.ReplaceAll(rel, "/", `\`)
}

// remoteBase is the last component of a Windows path.
func remoteBase(p string) string {
	p = strings.TrimRight(p, `/\`)
	return p[strings.LastIndexAny(p, `/\`)+1:]
}

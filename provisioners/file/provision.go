package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
)

var _ provision.Provisioner = (*Config)(nil)

// contentMode is the mode of a file written from content.
const contentMode os.FileMode = 0o644

// Provision copies the files. Uploads write content, or each source, to
// destination: a file source goes to destination, or into it when
// destination ends in "/" or there are several sources; a directory
// source follows rsync's rule ("dir/" copies its contents, "dir" the
// directory itself). A download copies the remote source to the local
// destination: a source ending in "/" is a directory, and a destination
// ending in "/" receives the file under its remote name. Local paths are
// relative to the template directory. It expects a Config that Prepare has
// filled.
func (c *Config) Provision(ctx context.Context, env *provision.Env) error {
	if env.Comm == nil {
		return errors.New(`file needs a connection to the instance; the source has communicator = "none"`)
	}
	if c.Direction == Download {
		return c.download(ctx, env)
	}
	if len(c.Sources) == 0 {
		fmt.Fprintf(out(env), "Uploading content to %s\n", c.Destination)
		if err := env.Comm.Upload(ctx, c.Destination, strings.NewReader(c.Content), contentMode); err != nil {
			return fmt.Errorf("upload content to %s: %w", c.Destination, err)
		}
		return nil
	}
	for _, src := range c.Sources {
		if err := c.upload(ctx, env, src); err != nil {
			return err
		}
	}
	return nil
}

// upload copies one local source, a file or a directory.
func (c *Config) upload(ctx context.Context, env *provision.Env, src string) error {
	local := resolve(env.BaseDir, src)
	fi, err := os.Stat(local)
	if err != nil {
		return fmt.Errorf("upload %s: %w", src, err)
	}
	fmt.Fprintf(out(env), "Uploading %s => %s\n", src, c.Destination)
	if fi.IsDir() {
		if err := env.Comm.UploadDir(ctx, c.Destination, local); err != nil {
			return fmt.Errorf("upload directory %s to %s: %w", src, c.Destination, err)
		}
		return nil
	}
	dst := c.Destination
	if strings.HasSuffix(dst, "/") || len(c.Sources) > 1 {
		dst = path.Join(dst, filepath.Base(local))
	}
	f, err := os.Open(local)
	if err != nil {
		return fmt.Errorf("upload %s: %w", src, err)
	}
	defer f.Close()
	if err := env.Comm.Upload(ctx, dst, f, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("upload %s to %s: %w", src, dst, err)
	}
	return nil
}

// download copies the remote source to the local destination.
func (c *Config) download(ctx context.Context, env *provision.Env) error {
	src := c.Sources[0]
	dst := resolve(env.BaseDir, c.Destination)
	fmt.Fprintf(out(env), "Downloading %s => %s\n", src, c.Destination)
	if strings.HasSuffix(src, "/") {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("download %s: %w", src, err)
		}
		if err := env.Comm.DownloadDir(ctx, src, dst); err != nil {
			return fmt.Errorf("download directory %s to %s: %w", src, c.Destination, err)
		}
		return nil
	}
	if strings.HasSuffix(c.Destination, "/") {
		dst = filepath.Join(dst, path.Base(src))
	}
	if err := downloadFile(ctx, env.Comm, src, dst); err != nil {
		return fmt.Errorf("download %s to %s: %w", src, c.Destination, err)
	}
	return nil
}

// downloadFile writes the remote file src to a temporary file next to dst
// and renames it into place, so a failed download leaves no partial file.
func downloadFile(ctx context.Context, d provision.Downloader, src, dst string) (err error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := d.Download(ctx, src, tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// resolve is check.Resolve keeping a trailing "/", which selects the
// contents of a directory.
func resolve(baseDir, p string) string {
	r := check.Resolve(baseDir, p)
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(r, "/") {
		r += string(filepath.Separator)
	}
	return r
}

func out(env *provision.Env) io.Writer {
	if env.Out == nil {
		return io.Discard
	}
	return env.Out
}

package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
)

// fileTransfer is one transfer protocol: sftpTransfer or scpTransfer.
type fileTransfer interface {
	upload(ctx context.Context, dst string, r io.Reader, mode fs.FileMode) error
	uploadTree(ctx context.Context, dst, src string, contentsOnly bool) error
	download(ctx context.Context, src string, w io.Writer) error
	downloadTree(ctx context.Context, src, dst string, contentsOnly bool) error
}

// Upload writes everything read from r to the remote file dst (a file
// path, not a directory; its parent must exist) and sets its permission
// bits to mode.
func (c *Client) Upload(ctx context.Context, dst string, r io.Reader, mode os.FileMode) error {
	return c.transfer(ctx, "upload to "+dst, func(t fileTransfer) error {
		return t.upload(ctx, dst, r, mode)
	})
}

// UploadDir copies the local directory src into the remote directory dst,
// recursively, preserving permission bits; dst is created if missing. As
// in Packer and rsync, "src/" (trailing slash) copies the contents of src
// into dst, while "src" creates dst/<base of src>. Symbolic links to files
// are copied as files; links to directories and special files are an
// error.
func (c *Client) UploadDir(ctx context.Context, dst, src string) error {
	contentsOnly := strings.HasSuffix(src, "/") || strings.HasSuffix(src, string(filepath.Separator))
	info, err := os.Stat(src)
	if err == nil && !info.IsDir() {
		err = fmt.Errorf("%s is not a directory", src)
	}
	if err != nil {
		return fmt.Errorf("upload %s to %s:%s: %w", src, c.opts.addr(), dst, err)
	}
	return c.transfer(ctx, "upload "+src+" to "+dst, func(t fileTransfer) error {
		return t.uploadTree(ctx, dst, src, contentsOnly)
	})
}

// Download copies the remote file src to w.
func (c *Client) Download(ctx context.Context, src string, w io.Writer) error {
	return c.transfer(ctx, "download "+src, func(t fileTransfer) error {
		return t.download(ctx, src, w)
	})
}

// DownloadDir copies the remote directory src into the local directory
// dst with the same trailing-slash rule as [Client.UploadDir].
func (c *Client) DownloadDir(ctx context.Context, src, dst string) error {
	contentsOnly := strings.HasSuffix(src, "/")
	if src = strings.TrimRight(src, "/"); src == "" {
		src = "/"
	}
	return c.transfer(ctx, "download "+src+" to "+dst, func(t fileTransfer) error {
		return t.downloadTree(ctx, path.Clean(src), dst, contentsOnly)
	})
}

// transfer runs op with the configured protocol and wraps its error with
// the operation, host and protocol. Failures on a connection that turns
// out to be gone match ErrDisconnected.
func (c *Client) transfer(ctx context.Context, what string, op func(fileTransfer) error) error {
	client, err := c.current()
	proto := c.opts.FileTransfer
	if err == nil {
		var t fileTransfer
		var done func()
		if t, proto, done, err = c.fileTransfer(ctx, client); err == nil {
			err = op(t)
			done()
		}
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		err = ctx.Err()
	case client != nil && !errors.Is(err, ErrDisconnected) && lost(client):
		err = fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return fmt.Errorf("%s on %s (%s): %w", what, c.opts.addr(), proto, err)
}

// fileTransfer picks SFTP or SCP. SFTP falls back to SCP for the rest of
// the client's life when the server does not offer the sftp subsystem.
// done releases the transfer; ctx being done interrupts it.
func (c *Client) fileTransfer(ctx context.Context, client *gossh.Client) (t fileTransfer, proto string, done func(), err error) {
	c.mu.Lock()
	useSCP := c.noSFTP || c.opts.FileTransfer == TransferSCP
	c.mu.Unlock()
	if useSCP {
		return scpTransfer{client}, TransferSCP, func() {}, nil
	}
	sc, err := sftp.NewClient(client)
	if err != nil {
		if lost(client) {
			return nil, TransferSFTP, nil, fmt.Errorf("start sftp: %w: %w", ErrDisconnected, err)
		}
		c.log.Info("sftp unavailable, falling back to scp", "addr", c.opts.addr(), "error", err)
		c.mu.Lock()
		c.noSFTP = true
		c.mu.Unlock()
		return scpTransfer{client}, TransferSCP, func() {}, nil
	}
	stop := context.AfterFunc(ctx, func() { sc.Close() })
	return sftpTransfer{sc}, TransferSFTP, func() { stop(); sc.Close() }, nil
}

package winrm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imgbuild/imgbuild/internal/provision"
)

var _ provision.Communicator = (*Client)(nil)

// UploadTempDir is where uploads are staged on the instance, as
// UploadTempPrefix<random hex>.b64.
const (
	UploadTempDir    = `C:\Windows\Temp`
	UploadTempPrefix = `imgbuild-upload-`
)

// cmdLineBudget is how long an echo chunk command may get: cmd.exe takes
// at most 8191 characters; the rest is a margin (as in Packer's winrmcp).
const cmdLineBudget = 8000

// maxStderr is how much of a tool script's stderr is kept for its error.
const maxStderr = 4 << 10

// Upload writes everything read from r to the file dst on the instance
// (its parent directories are created; an existing file is replaced).
// Windows has no permission bits: mode is ignored. The content travels as
// base64 "echo" commands appended to a temporary file, which a PowerShell
// script then decodes into dst (see the package documentation).
func (c *Client) Upload(ctx context.Context, dst string, r io.Reader, mode os.FileMode) error {
	return c.withShell(ctx, "upload to "+dst, func(ctx context.Context, sh *shell) error {
		return upload(ctx, sh, dst, r)
	})
}

// Download copies the file src on the instance to w.
func (c *Client) Download(ctx context.Context, src string, w io.Writer) error {
	return c.withShell(ctx, "download "+src, func(ctx context.Context, sh *shell) error {
		return download(ctx, sh, src, w)
	})
}

// upload sends r in chunks to a temporary file, then restores it as dst.
func upload(ctx context.Context, sh *shell, dst string, r io.Reader) error {
	tmp, err := uploadTempName()
	if err != nil {
		return err
	}
	redirect := ` >> "` + tmp + `"`
	chunk := make([]byte, chunkSize(len("echo ")+len(redirect)))
	sent := false
	for {
		n, rerr := io.ReadFull(r, chunk)
		if n > 0 {
			line := "echo " + base64.StdEncoding.EncodeToString(chunk[:n]) + redirect
			if err := sh.exec(ctx, line, nil); err != nil {
				return fmt.Errorf("send content to %s: %w", tmp, err)
			}
			sent = true
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read content to upload: %w", rerr)
		}
	}
	src := tmp
	if !sent {
		src = "" // nothing to decode: restore makes dst empty
	}
	return sh.tool(ctx, nil, OpRestore, restoreBody, Var{"src", src}, Var{"dst", dst})
}

// chunkSize is how many bytes fit, base64 encoded, in a command line with
// overhead other characters.
func chunkSize(overhead int) int {
	return (cmdLineBudget - overhead) / 4 * 3
}

func uploadTempName() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return UploadTempDir + `\` + UploadTempPrefix + hex.EncodeToString(b) + ".b64", nil
}

// download decodes the base64 the download script prints into w.
func download(ctx context.Context, sh *shell, src string, w io.Writer) error {
	dec := &base64Writer{w: w}
	if err := sh.tool(ctx, dec, OpDownload, downloadBody, Var{"path", src}); err != nil {
		return err
	}
	return dec.Close()
}

// exec runs a command that must succeed; its stderr explains a failure.
func (s *shell) exec(ctx context.Context, line string, stdout io.Writer) error {
	var stderr limitedBuffer
	status, err := s.run(ctx, line, nil, stdout, &stderr)
	if err != nil {
		return err
	}
	if status != 0 {
		if msg := stderr.message(); msg != "" {
			return fmt.Errorf("%s (exit status %d)", msg, status)
		}
		return fmt.Errorf("exit status %d", status)
	}
	return nil
}

// tool runs a tool script with exec.
func (s *shell) tool(ctx context.Context, stdout io.Writer, op, body string, vars ...Var) error {
	return s.exec(ctx, toolCommand(op, body, vars...), stdout)
}

// limitedBuffer keeps the first maxStderr bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxStderr - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// message is the buffer as one line of text.
func (b *limitedBuffer) message() string {
	return strings.Join(strings.Fields(b.String()), " ")
}

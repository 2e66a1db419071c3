package ssh

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// protocols are the transfer set-ups every transfer test runs under.
var protocols = []struct {
	name         string
	server       serverOpts
	fileTransfer string
	wantProto    string // protocol named in errors
	needSCP      bool
}{
	{name: "sftp", fileTransfer: "sftp", wantProto: "sftp"},
	{name: "scp", fileTransfer: "scp", wantProto: "scp", needSCP: true},
	{name: "scp fallback", server: serverOpts{noSFTP: true}, wantProto: "scp", needSCP: true},
}

// forEachProtocol runs fn against a fresh server and client per protocol.
func forEachProtocol(t *testing.T, fn func(t *testing.T, s *testServer, c *Client, proto string)) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			if _, err := exec.LookPath("scp"); p.needSCP && err != nil {
				t.Skip("scp fallback needs the scp program, which is not installed: apt-get install -y openssh-client")
			}
			signer := newSigner(t)
			opts := p.server
			opts.authorized = append(opts.authorized, signer.PublicKey())
			s := startServer(t, opts)
			clientOpts := s.clientOpts(signer)
			clientOpts.FileTransfer = p.fileTransfer
			fn(t, s, connect(t, clientOpts), p.wantProto)
		})
	}
}

func TestUploadDownloadFile(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, s *testServer, c *Client, proto string) {
		ctx := context.Background()
		files := []struct {
			name   string
			reader io.Reader
			mode   fs.FileMode
		}{
			{"sized.txt", strings.NewReader("sized content\n"), 0o640},
			{"unsized.sh", io.MultiReader(strings.NewReader("#!/bin/sh\necho hi\n")), 0o755},
			{"empty", bytes.NewReader(nil), 0o600},
		}
		for _, f := range files {
			want, _ := io.ReadAll(io.TeeReader(f.reader, io.Discard))
			dst := filepath.Join(s.dir, f.name)
			if err := c.Upload(ctx, dst, bytes.NewReader(want), f.mode); err != nil {
				t.Fatalf("Upload %s: %v", f.name, err)
			}
			if got := listing(t, s.dir)[f.name]; got != fileEntry(f.mode, string(want)) {
				t.Errorf("uploaded %s: got %q, want %q", f.name, got, fileEntry(f.mode, string(want)))
			}
			var back bytes.Buffer
			if err := c.Download(ctx, dst, &back); err != nil {
				t.Fatalf("Download %s: %v", f.name, err)
			}
			if back.String() != string(want) {
				t.Errorf("downloaded %s = %q, want %q", f.name, back.String(), want)
			}
		}
		missing := filepath.Join(s.dir, "no-such-file")
		err := c.Download(ctx, missing, io.Discard)
		if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "("+proto+")") {
			t.Errorf("Download of a missing file: %v, want an error naming %s and %s", err, missing, proto)
		}
	})
}

func TestUploadUnsizedReaderViaSCP(t *testing.T) {
	// Not sized and not a Len()er: scp must spool it to learn its size.
	forEachProtocol(t, func(t *testing.T, s *testServer, c *Client, _ string) {
		content := strings.Repeat("0123456789", 100_000)
		dst := filepath.Join(s.dir, "big")
		if err := c.Upload(context.Background(), dst, io.MultiReader(strings.NewReader(content)), 0o644); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		got, err := os.ReadFile(dst)
		if err != nil || string(got) != content {
			t.Errorf("uploaded %d bytes (err %v), want %d", len(got), err, len(content))
		}
	})
}

func TestUploadDir(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, s *testServer, c *Client, _ string) {
		src := filepath.Join(t.TempDir(), "tree")
		makeTree(t, src)
		tests := []struct {
			name, src, dst string
			wantPrefix     string
		}{
			{name: "without slash copies the directory", src: src, dst: "itself", wantPrefix: "tree/"},
			{name: "with slash copies the contents", src: src + "/", dst: "contents", wantPrefix: ""},
			{name: "into a missing nested directory", src: src + "/", dst: "a/b/c", wantPrefix: ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dst := filepath.Join(s.dir, tt.dst)
				if err := c.UploadDir(context.Background(), dst, tt.src); err != nil {
					t.Fatalf("UploadDir: %v", err)
				}
				compareTrees(t, listing(t, dst), wantTree(tt.wantPrefix))
			})
		}
	})
}

func TestDownloadDir(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, s *testServer, c *Client, _ string) {
		remote := filepath.Join(s.dir, "tree")
		makeTree(t, remote)
		tests := []struct {
			name, src  string
			wantPrefix string
		}{
			{name: "without slash copies the directory", src: remote, wantPrefix: "tree/"},
			{name: "with slash copies the contents", src: remote + "/", wantPrefix: ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dst := filepath.Join(t.TempDir(), "out")
				if err := c.DownloadDir(context.Background(), tt.src, dst); err != nil {
					t.Fatalf("DownloadDir: %v", err)
				}
				compareTrees(t, listing(t, dst), wantTree(tt.wantPrefix))
			})
		}
	})
}

func TestSFTPFallbackIsRemembered(t *testing.T) {
	signer := newSigner(t)
	s := startServer(t, serverOpts{noSFTP: true, authorized: nil})
	s.opts.authorized = append(s.opts.authorized, signer.PublicKey())
	if _, err := exec.LookPath("scp"); err != nil {
		t.Skip("needs the scp program: apt-get install -y openssh-client")
	}
	c := connect(t, s.clientOpts(signer))
	if err := c.Upload(context.Background(), filepath.Join(s.dir, "f"), strings.NewReader("x"), 0o644); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.noSFTP {
		t.Error("client did not remember that sftp is unavailable")
	}
}

// makeTree creates the fixture tree at root: files and directories with
// distinct modes, an empty directory and a symlink to a file.
func makeTree(t *testing.T, root string) {
	t.Helper()
	writeFile(t, filepath.Join(root, "a.txt"), "alpha\n", 0o644)
	writeFile(t, filepath.Join(root, "run.sh"), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(root, "sub", "b.txt"), "beta\n", 0o600)
	writeFile(t, filepath.Join(root, "sub", "deep", "c.txt"), "gamma\n", 0o640)
	for dir, mode := range map[string]fs.FileMode{"": 0o750, "sub": 0o751, "sub/deep": 0o700, "empty": 0o711} {
		p := filepath.Join(root, dir)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(p, mode) // after the files are in
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
}

// wantTree is the listing of a copy of makeTree's fixture, under prefix
// ("tree/" when the directory itself was copied).
func wantTree(prefix string) map[string]string {
	want := map[string]string{
		"a.txt":          fileEntry(0o644, "alpha\n"),
		"link":           fileEntry(0o644, "alpha\n"), // links to files are copied as files
		"run.sh":         fileEntry(0o755, "#!/bin/sh\n"),
		"sub":            dirEntry(0o751),
		"sub/b.txt":      fileEntry(0o600, "beta\n"),
		"sub/deep":       dirEntry(0o700),
		"sub/deep/c.txt": fileEntry(0o640, "gamma\n"),
		"empty":          dirEntry(0o711),
	}
	if prefix == "" {
		return want
	}
	out := map[string]string{strings.TrimSuffix(prefix, "/"): dirEntry(0o750)}
	for k, v := range want {
		out[prefix+k] = v
	}
	return out
}

func fileEntry(mode fs.FileMode, content string) string {
	return fmt.Sprintf("file %04o %q", mode, content)
}

func dirEntry(mode fs.FileMode) string { return fmt.Sprintf("dir %04o", mode) }

// listing describes every entry under root (not root itself).
func listing(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			out[filepath.ToSlash(rel)] = dirEntry(info.Mode().Perm())
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = fileEntry(info.Mode().Perm(), string(b))
		default:
			out[filepath.ToSlash(rel)] = "other " + info.Mode().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareTrees(t *testing.T, got, want map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] != want[k] {
			t.Errorf("%s: got %q, want %q", k, got[k], want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s: %s", k, got[k])
		}
	}
}

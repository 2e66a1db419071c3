package file

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// fakeComm is an instance whose file system is the directory root: the
// remote path /etc/x is root/etc/x. UploadDir follows the trailing-slash
// rule the contract documents.
type fakeComm struct {
	root string
}

func (f *fakeComm) remote(p string) string { return filepath.Join(f.root, filepath.FromSlash(p)) }

func (f *fakeComm) Run(context.Context, *provision.Cmd) (int, error) {
	return 0, errors.New("not used by file")
}

func (f *fakeComm) Reconnect(context.Context) error { return errors.New("not used by file") }

func (f *fakeComm) Upload(_ context.Context, dst string, r io.Reader, mode os.FileMode) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.remote(dst)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(f.remote(dst), data, mode)
}

func (f *fakeComm) UploadDir(_ context.Context, dst, src string) error {
	to := f.remote(dst)
	if !strings.HasSuffix(src, "/") {
		to = filepath.Join(to, filepath.Base(src))
	}
	return os.CopyFS(to, os.DirFS(src))
}

func (f *fakeComm) Download(_ context.Context, src string, w io.Writer) error {
	data, err := os.ReadFile(f.remote(src))
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

func (f *fakeComm) DownloadDir(_ context.Context, src, dst string) error {
	return os.CopyFS(dst, os.DirFS(f.remote(src)))
}

// tree returns every regular file under dir as relative path -> content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// local makes the template directory: app.conf and site/{index.html,css/a.css}.
func local(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range map[string]string{"app.conf": "conf", "site/index.html": "index", "site/css/a.css": "css"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUpload(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		want map[string]string // on the instance
	}{
		{"content", Config{Content: "hello", Destination: "/etc/motd"}, map[string]string{"etc/motd": "hello"}},
		{"file", Config{Source: "app.conf", Destination: "/etc/app.conf"}, map[string]string{"etc/app.conf": "conf"}},
		{"file into directory", Config{Source: "app.conf", Destination: "/etc/"}, map[string]string{"etc/app.conf": "conf"}},
		{"directory itself", Config{Source: "site", Destination: "/var/www"},
			map[string]string{"var/www/site/index.html": "index", "var/www/site/css/a.css": "css"}},
		{"directory contents", Config{Source: "site/", Destination: "/var/www"},
			map[string]string{"var/www/index.html": "index", "var/www/css/a.css": "css"}},
		{"several sources", Config{Sources: []string{"app.conf", "site/css/a.css"}, Destination: "/opt"},
			map[string]string{"opt/app.conf": "conf", "opt/a.css": "css"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := local(t)
			f := &fakeComm{root: t.TempDir()}
			if err := run(t, &tt.c, f, dir); err != nil {
				t.Fatal(err)
			}
			got := tree(t, f.root)
			if len(got) != len(tt.want) {
				t.Errorf("instance has %v, want %v", got, tt.want)
			}
			for p, body := range tt.want {
				if got[p] != body {
					t.Errorf("%s = %q, want %q (instance: %v)", p, got[p], body, got)
				}
			}
		})
	}
}

func TestUploadKeepsMode(t *testing.T) {
	dir := local(t)
	f := &fakeComm{root: t.TempDir()}
	if err := run(t, &Config{Source: "app.conf", Destination: "/a"}, f, dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(f.remote("/a")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("uploaded file: %v, %v; want mode 0640", fi, err)
	}
}

func TestDownload(t *testing.T) {
	tests := []struct {
		name, src, dst string
		want           map[string]string // in the template directory
	}{
		{"file", "/var/log/app.log", "logs/app.log", map[string]string{"logs/app.log": "log"}},
		{"file into directory", "/var/log/app.log", "logs/", map[string]string{"logs/app.log": "log"}},
		{"directory", "/var/log/", "logs", map[string]string{"logs/app.log": "log", "logs/sub/b.log": "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeComm{root: t.TempDir()}
			if err := f.Upload(context.Background(), "/var/log/app.log", strings.NewReader("log"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := f.Upload(context.Background(), "/var/log/sub/b.log", strings.NewReader("b"), 0o600); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := run(t, &Config{Source: tt.src, Destination: tt.dst, Direction: Download}, f, dir); err != nil {
				t.Fatal(err)
			}
			if got := tree(t, dir); len(got) != len(tt.want) || got["logs/app.log"] != "log" {
				t.Errorf("template directory has %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		comm provision.Communicator
		want string
	}{
		{"generated source missing at run time", Config{Source: "later.tar", Destination: "/x", Generated: true}, &fakeComm{}, "upload later.tar: "},
		{"remote file missing", Config{Source: "/nope", Destination: "x", Direction: Download}, &fakeComm{}, "download /nope to x: "},
		{"no communicator", Config{Content: "x", Destination: "/x"}, nil, `communicator = "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f, ok := tt.comm.(*fakeComm); ok {
				f.root = t.TempDir()
			}
			err := run(t, &tt.c, tt.comm, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// run prepares c with dir as the template directory and provisions.
func run(t *testing.T, c *Config, comm provision.Communicator, dir string) error {
	t.Helper()
	ctx := &check.Context{BaseDir: dir}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	var out bytes.Buffer
	return c.Provision(context.Background(), &provision.Env{Comm: comm, Out: &out, BaseDir: dir})
}

package winrm_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/winguest"
)

func TestUploadDownloadFile(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	ctx := context.Background()
	data := make([]byte, 300<<10+17) // dozens of echo chunks, not a multiple of 3
	rand.Read(data)
	const dst = `C:\Windows\Temp\new dir\blob.bin`
	if err := c.Upload(ctx, "C:/Windows/Temp/new dir/blob.bin", bytes.NewReader(data), 0o644); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got := readDisk(t, e.disk, dst); !bytes.Equal(got, data) {
		t.Fatalf("guest file has %d bytes, want the %d uploaded", len(got), len(data))
	}
	var got bytes.Buffer
	if err := c.Download(ctx, dst, &got); err != nil {
		t.Fatalf("Download: %v", err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Errorf("downloaded %d bytes, want the %d uploaded", got.Len(), len(data))
	}

	files := events(t, e.guest, winguest.KindFile)
	sum := sha256.Sum256(data)
	if len(files) != 1 || files[0].Path != dst || *files[0].Size != int64(len(data)) || files[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("file events = %+v, want one for %s", files, dst)
	}
	temps, _ := filepath.Glob(filepath.Join(e.disk, "c", "Windows", "Temp", winrm.UploadTempPrefix+"*"))
	if len(temps) != 0 {
		t.Errorf("upload staging files left behind: %v", temps)
	}
}

func TestUploadEmptyAndReplace(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	ctx := context.Background()
	const dst = `C:\data\f.txt`
	if err := c.Upload(ctx, dst, strings.NewReader("first content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(ctx, dst, strings.NewReader(""), 0o644); err != nil {
		t.Fatalf("Upload empty: %v", err)
	}
	if got := readDisk(t, e.disk, dst); len(got) != 0 {
		t.Errorf("file = %q, want empty", got)
	}
}

func TestTransferErrors(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	ctx := context.Background()
	if err := os.MkdirAll(diskPath(e.disk, `C:\dir`), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func() error
		want string
	}{
		{"download missing", func() error { return c.Download(ctx, `C:\missing.txt`, &bytes.Buffer{}) }, `cannot download C:\missing.txt: no such file`},
		{"download directory", func() error { return c.Download(ctx, `C:\dir`, &bytes.Buffer{}) }, "it is a directory"},
		{"upload onto directory", func() error { return c.Upload(ctx, `C:\dir`, strings.NewReader("x"), 0o644) }, "it is a directory"},
		{"download dir missing", func() error { return c.DownloadDir(ctx, `C:\nothing`, t.TempDir()) }, "not a directory"},
		{"upload dir missing", func() error { return c.UploadDir(ctx, `C:\x`, filepath.Join(t.TempDir(), "none")) }, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if errors.Is(err, winrm.ErrDisconnected) {
				t.Errorf("error %q matches ErrDisconnected", err)
			}
		})
	}
}

// localTree makes a directory tree: tree/a.txt, tree/sub/b.bin,
// tree/empty/.
func localTree(t *testing.T) (dir string, bin []byte) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "tree")
	bin = make([]byte, 20<<10)
	rand.Read(bin)
	for _, d := range []string{"sub", "empty"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "b.bin"), bin, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, bin
}

// tree lists the files and directories under root as "d path" and
// "f path size" lines, sorted.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out = append(out, "d "+filepath.ToSlash(rel))
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, "f "+filepath.ToSlash(rel)+" "+strconv.FormatInt(info.Size(), 10))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestUploadDir(t *testing.T) {
	src, _ := localTree(t)
	want := []string{"d empty", "d sub", "f a.txt 6", "f sub/b.bin 20480"}
	tests := []struct {
		name, src, root string
	}{
		{"directory itself", src, `C:\up1\tree`},
		{"contents (trailing slash)", src + "/", `C:\up2`},
	}
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := `C:\up` + strconv.Itoa(i+1)
			if err := c.UploadDir(context.Background(), dst, tt.src); err != nil {
				t.Fatalf("UploadDir: %v", err)
			}
			got := tree(t, diskPath(e.disk, tt.root))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("guest tree under %s:\n%s\nwant:\n%s", tt.root, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestDownloadDir(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	src, bin := localTree(t)
	if err := c.UploadDir(context.Background(), `C:\remote`, src); err != nil {
		t.Fatal(err)
	}
	want := []string{"d empty", "d sub", "f a.txt 6", "f sub/b.bin 20480"}
	tests := []struct {
		name, src, sub string
	}{
		{"directory itself", `C:\remote\tree`, "tree"},
		{"contents (trailing backslash)", `C:\remote\tree\`, ""},
		{"contents (trailing slash)", `C:/remote/tree/`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := t.TempDir()
			if err := c.DownloadDir(context.Background(), tt.src, dst); err != nil {
				t.Fatalf("DownloadDir: %v", err)
			}
			root := filepath.Join(dst, tt.sub)
			if got := tree(t, root); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("local tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got, _ := os.ReadFile(filepath.Join(root, "sub", "b.bin")); !bytes.Equal(got, bin) {
				t.Errorf("sub/b.bin differs from what was uploaded")
			}
		})
	}
}

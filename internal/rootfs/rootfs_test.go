package rootfs_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/imgbuild/imgbuild/internal/rootfs"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestImageExtractRoundTrip makes a root file system tree, streams it
// through TarDir, Image (with Exclude) and Extract, and compares what
// comes out: content, modes (setuid too), owners, symbolic links, and the
// files ec2-bundle-vol's filter and excluded directories leave out.
func TestImageExtractRoundTrip(t *testing.T) {
	testenv.Require(t, testenv.Root, testenv.Debugfs) // owners need root
	src := t.TempDir()
	files := map[string]string{
		"etc/motd":                          "hello\n",
		"usr/bin/sudo":                      "setuid binary",
		"home/admin/.ssh/authorized_keys":   "ssh-ed25519 AAAA",
		"home/admin/.bash_history":          "secret command",
		"home/admin/notes.txt~":             "editor backup",
		"root/deploy.pem":                   "-----BEGIN RSA PRIVATE KEY-----",
		"home/admin/.ssh/id_rsa":            "private",
		"etc/ssl/certs/ca-certificates.pem": "public CA bundle",
		"proc/cpuinfo":                      "kernel",
		"mnt/data/big":                      "mounted volume",
		"var/lib/app/data.bin":              string(bytes.Repeat([]byte{1, 2, 3}, 100000)),
	}
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.Chown(filepath.Join(src, "etc/motd"), 1000, 1001))
	must(t, os.Chmod(filepath.Join(src, "usr/bin/sudo"), fs.ModeSetuid|0o755))
	must(t, os.Symlink("/usr/share/ca-certificates/x.crt", filepath.Join(src, "etc/ssl/certs/x.pem")))
	must(t, os.Symlink("../etc/motd", filepath.Join(src, "usr/motd")))

	var stream bytes.Buffer
	must(t, rootfs.TarDir(context.Background(), src, &stream))
	f, size, err := rootfs.Image(context.Background(), &stream, t.TempDir(), rootfs.Exclude)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	f.Close()
	if size <= 0 {
		t.Fatalf("image size %d", size)
	}
	out := t.TempDir()
	must(t, rootfs.Extract(context.Background(), f.Name(), out))

	for name, want := range map[string]string{
		"etc/motd":                          "hello\n",
		"usr/bin/sudo":                      "setuid binary",
		"etc/ssl/certs/ca-certificates.pem": "public CA bundle",
		"var/lib/app/data.bin":              files["var/lib/app/data.bin"],
	} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %v, content differs: %v", name, err, string(got) != want)
		}
	}
	for _, name := range []string{"home/admin/.ssh/authorized_keys", "home/admin/.bash_history", "home/admin/notes.txt~",
		"root/deploy.pem", "home/admin/.ssh/id_rsa", "proc/cpuinfo", "mnt/data"} {
		if _, err := os.Lstat(filepath.Join(out, name)); err == nil {
			t.Errorf("%s was not left out", name)
		}
	}
	for _, d := range []string{"proc", "mnt"} {
		if fi, err := os.Stat(filepath.Join(out, d)); err != nil || !fi.IsDir() {
			t.Errorf("mount point %s missing: %v", d, err)
		}
	}
	fi, err := os.Stat(filepath.Join(out, "usr/bin/sudo"))
	if err != nil || fi.Mode()&fs.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("usr/bin/sudo mode %v, %v; want setuid 0755", fi.Mode(), err)
	}
	st, _ := os.Stat(filepath.Join(out, "etc/motd"))
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 1000 || sys.Gid != 1001 {
		t.Errorf("etc/motd owner %d:%d, want 1000:1001", sys.Uid, sys.Gid)
	}
	for link, target := range map[string]string{"usr/motd": "../etc/motd", "etc/ssl/certs/x.pem": "/usr/share/ca-certificates/x.crt"} {
		if got, err := os.Readlink(filepath.Join(out, link)); err != nil || got != target {
			t.Errorf("%s -> %q, %v; want %q", link, got, err, target)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package rootfs

import (
	"archive/tar"
	"bytes"
	"context"
	"testing"
)

// TestImageNames checks that "./" and "/" prefixes and the root entry of
// a tar stream (what `tar -C / -c .` writes) are accepted, and that hard
// links to left-out files are left out too.
func TestImageNames(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Typeflag == tar.TypeLink || h.Typeflag == tar.TypeDir {
			h.Size = 0
		}
		check(t, tw.WriteHeader(h))
		if h.Size > 0 {
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "./etc/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "/etc/hostname", Typeflag: tar.TypeReg, Mode: 0o644}, "box\n")
	add(&tar.Header{Name: "./etc/key.pem", Typeflag: tar.TypeReg, Mode: 0o600}, "secret")
	add(&tar.Header{Name: "./etc/key-copy", Typeflag: tar.TypeLink, Linkname: "./etc/key.pem"}, "")
	check(t, tw.Close())
	var kept []string
	var out bytes.Buffer
	check(t, filter(context.Background(), &buf, &out, Exclude))
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		kept = append(kept, h.Name)
	}
	if len(kept) != 2 || kept[0] != "etc" || kept[1] != "etc/hostname" {
		t.Errorf("kept %q, want [etc etc/hostname]", kept)
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

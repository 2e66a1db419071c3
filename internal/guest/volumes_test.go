package guest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgbuild/imgbuild/internal/guest"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestVolumes boots a guest with two volumes, a blank one and one made
// from a layer, whose image makes /mnt a symlink to a path that exists
// both in the guest and on the host: the volumes are mounted in the
// guest's directory, not the host's; the guest writes onto both, the
// writes land in each volume's own directory and nowhere else, and the
// layer is left as it was.
func TestVolumes(t *testing.T) {
	base := testBase(t)
	dir := t.TempDir()
	escape := filepath.Join(dir, "host-side") // on the host, and in the image
	image := filepath.Join(dir, "image")      // the image's layer: /mnt -> escape
	lower := filepath.Join(dir, "lower")      // a snapshot's layer
	for _, d := range []string{escape, filepath.Join(image, escape), filepath.Join(lower, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(escape, filepath.Join(image, "mnt")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lower, "etc", "from-snapshot"), []byte("snap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vols := []guest.Volume{
		{Path: "/mnt/xvdf", Dir: filepath.Join(dir, "vol-f")},
		{Path: "/mnt/xvdg", Dir: filepath.Join(dir, "vol-g"), Lowers: []string{lower}},
	}
	key := newTestKey(t)
	testIP++
	ip := fmt.Sprintf("127.0.%d.%d", 250, 10+testIP+os.Getpid()%200)
	g, err := guest.New(guest.Spec{Dir: filepath.Join(dir, "i-1"), Lowers: []string{image, base}, InstanceID: "i-volumes", IP: ip,
		Hostname: "ip-volumes", AuthorizedKeys: key.auth, Volumes: vols, Logger: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Remove() })
	if err := g.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := key.must(t, ip, "ec2-user", "mountpoint -q /mnt/xvdf && mountpoint -q /mnt/xvdg && "+
		"echo f | sudo tee /mnt/xvdf/f >/dev/null && cat /mnt/xvdg/etc/from-snapshot && echo g | sudo tee /mnt/xvdg/g >/dev/null && "+
		"sudo rm /mnt/xvdg/etc/from-snapshot && readlink /mnt")
	if got != "snap\n"+escape {
		t.Errorf("in the guest: %q", got)
	}
	if ls, _ := os.ReadDir(escape); len(ls) != 0 {
		t.Errorf("the guest's /mnt symlink led the volume mounts to the host's %s: %v", escape, ls)
	}
	for file, want := range map[string]string{vols[0].Upper() + "/f": "f\n", vols[1].Upper() + "/g": "g\n", lower + "/etc/from-snapshot": "snap\n"} {
		if b, err := os.ReadFile(file); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", file, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(g.Upper(), escape, "xvdf", "f")); err == nil {
		t.Error("a volume's file is on the guest's own disk")
	}
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if ms := testenv.MountsUnder(t, dir); len(ms) != 0 {
		t.Fatalf("mounts left: %v", ms)
	}
}

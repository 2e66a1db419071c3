package guest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostMirror(t *testing.T) {
	for name, c := range map[string]struct {
		files map[string]string
		want  Mirror
	}{
		"deb822": {map[string]string{"sources.list.d/debian.sources": `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
`}, Mirror{"http://deb.debian.org/debian", "bookworm"}},
		"security first, then the main suite": {map[string]string{"sources.list.d/a.sources": "Types: deb-src deb\nURIs: http://mirror.example/debian-security\nSuites: trixie-security\n\nTypes: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: trixie\n\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: trixie\n"},
			Mirror{"http://mirror.example/debian", "trixie"}},
		"one-line with options": {map[string]string{"sources.list": "# comment\ndeb-src http://x/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://archive.ubuntu.com/ubuntu noble main universe\n"},
			Mirror{"http://archive.ubuntu.com/ubuntu", "noble"}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for p, body := range c.files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := HostMirror(dir)
			if err != nil || got != c.want {
				t.Errorf("HostMirror = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
	if _, err := HostMirror(t.TempDir()); err == nil {
		t.Error("no sources: no error")
	}
}

func TestPhases(t *testing.T) {
	var got []string
	p := phases(func(l string) { got = append(got, l) })
	for _, l := range []string{"I: Retrieving InRelease ", "I: Retrieving libc6 2.36-9+deb12u10", "I: Validating libc6 2.36-9+deb12u10",
		"I: Extracting zlib1g...", "I: Unpacking libssl3:amd64...", "I: Installing core packages...", "I: Configuring the base system...",
		"I: Base system installed successfully."} {
		p(l)
	}
	want := []string{"debootstrap: Installing core packages...", "debootstrap: Configuring the base system...", "debootstrap: Base system installed successfully."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("phases passed on %q, want %q", got, want)
	}
}

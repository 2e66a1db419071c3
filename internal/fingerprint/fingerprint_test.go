package fingerprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type inner struct {
	Size int `hcl:"size"`
}

type access struct {
	Key string `hcl:"key"`
}

type config struct {
	access `fingerprint:"-"`
	Name   string            `hcl:"name" fingerprint:"-"`
	Data   string            `hcl:"data"`
	Pass   string            `hcl:"pass" sensitive:"true"`
	Script string            `hcl:"script" fingerprint:"file"`
	Tags   map[string]string `hcl:"tags"`
	Disks  []inner           `hcl:"disk,block"`
}

func sum(t *testing.T, c *config, dir string, mask func(string) string) string {
	t.Helper()
	h := New(mask)
	h.Add("source", "ami-1")
	h.Config("cfg", c, dir)
	s, err := h.Sum()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConfigFingerprint(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.sh"), []byte("echo 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := func() *config {
		return &config{access: access{Key: "k"}, Name: "n", Data: "d", Pass: "p", Script: "s.sh",
			Tags: map[string]string{"a": "1", "b": "2"}, Disks: []inner{{Size: 8}}}
	}
	want := sum(t, base(), dir, nil)
	if !strings.HasPrefix(want, "sha256:") || len(want) != len("sha256:")+64 {
		t.Fatalf("fingerprint %q", want)
	}
	same := []func(c *config){
		func(c *config) { c.Name = "other" },                               // left out
		func(c *config) { c.Key = "other" },                                // left out with its embedded struct
		func(c *config) { c.Pass = "other" },                               // sensitive
		func(c *config) { c.Tags = map[string]string{"b": "2", "a": "1"} }, // map order
	}
	for i, f := range same {
		c := base()
		f(c)
		if got := sum(t, c, dir, nil); got != want {
			t.Errorf("change %d changed the fingerprint", i)
		}
	}
	differ := []func(c *config){
		func(c *config) { c.Data = "other" },
		func(c *config) { c.Disks[0].Size = 9 },
		func(c *config) { c.Tags["a"] = "3" },
	}
	for i, f := range differ {
		c := base()
		f(c)
		if got := sum(t, c, dir, nil); got == want {
			t.Errorf("change %d kept the fingerprint", i)
		}
	}
	// The script's content counts, not only its name.
	if err := os.WriteFile(filepath.Join(dir, "s.sh"), []byte("echo 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := sum(t, base(), dir, nil); got == want {
		t.Error("a changed script kept the fingerprint")
	}
	// A missing file is an error naming it.
	c := base()
	c.Script = "missing.sh"
	h := New(nil)
	h.Config("cfg", c, dir)
	if _, err := h.Sum(); err == nil || !strings.Contains(err.Error(), "missing.sh") {
		t.Errorf("missing script: %v", err)
	}
}

// TestFingerprintMasksSecrets: a secret inside a hashed string does not
// reach the hash, so the published fingerprint cannot be used to guess it.
func TestFingerprintMasksSecrets(t *testing.T) {
	mask := func(s string) string { return strings.ReplaceAll(s, "hunter2", "<sensitive>") }
	a := &config{Data: "PASSWORD=hunter2"}
	b := &config{Data: "PASSWORD=correct-horse"}
	maskB := func(s string) string { return strings.ReplaceAll(s, "correct-horse", "<sensitive>") }
	if sum(t, a, "", mask) != sum(t, b, "", maskB) {
		t.Error("the secret changed the fingerprint")
	}
	if sum(t, a, "", nil) == sum(t, b, "", nil) {
		t.Error("without a mask the values should differ")
	}
}

func TestDirectoryContent(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "files")
	if err := os.MkdirAll(filepath.Join(sub, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(sub, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/a.conf", "a")
	c := &config{Script: "files"}
	first := sum(t, c, dir, nil)
	write("etc/b.conf", "b")
	if sum(t, c, dir, nil) == first {
		t.Error("a file added under a directory kept the fingerprint")
	}
}

package localcloud

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestCatalogueIDs: an image's ID is the same in every run (templates and
// tests may name one) and differs between images and between regions.
func TestCatalogueIDs(t *testing.T) {
	if got, want := catalogueID("us-east-1", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240701"), "ami-083107249385343ff"; got != want {
		t.Errorf("ID %s, want %s as before", got, want)
	}
	valid := regexp.MustCompile(`^ami-[0-9a-f]{17}$`)
	seen := map[string]string{}
	for _, region := range []string{"us-east-1", "us-east-2", "eu-west-1", "ap-southeast-2", "cn-north-1"} {
		for _, e := range catalogueEntries(region) {
			if !valid.MatchString(e.ID) {
				t.Errorf("%s %s: ID %q", region, e.Name, e.ID)
			}
			if prev, ok := seen[e.ID]; ok {
				t.Errorf("%s %s: ID %s is also %s's", region, e.Name, e.ID, prev)
			}
			seen[e.ID] = region + " " + e.Name
		}
	}
}

// TestMotoPython: the python that runs moto_server is the one its #! line
// names, or the python3 next to a script that names none (a pyenv shim).
func TestMotoPython(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	venvPython := write("venv/bin/python3.12", "")
	envPython := write("path/python3", "")
	shimPython := write("shims/python3", "")
	t.Setenv("PATH", filepath.Dir(envPython))
	pipScript := write("venv/bin/moto_server", "#!"+venvPython+"\nfrom moto.server import main\n")
	linked := filepath.Join(dir, "bin", "moto_server")
	if err := os.MkdirAll(filepath.Dir(linked), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(pipScript, linked); err != nil {
		t.Fatal(err)
	}
	envScript := write("env/moto_server", "#!/usr/bin/env -S python3 -u\n")
	shimScript := write("shims/moto_server", "#!/usr/bin/env bash\nexec pyenv exec moto_server\n")
	for script, want := range map[string]string{
		pipScript:  venvPython,
		linked:     venvPython, // pipx links to a virtualenv's script
		envScript:  envPython,
		shimScript: shimPython,
	} {
		if got, err := motoPython(script); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %s", script, got, err, want)
		}
	}
	if got, err := motoPython(write("alone/moto_server", "#!/bin/sh\n")); err == nil {
		t.Errorf("a wrapper with no python next to it: %s, want an error", got)
	}
}

// TestEC2Regions: the regions are botocore's EC2 endpoints that are
// regions of their partition (not fips-* and other endpoint names).
func TestEC2Regions(t *testing.T) {
	dir := t.TempDir()
	endpoints := `{"partitions": [
		{"regions": {"us-east-1": {}, "eu-west-1": {}}, "services": {"ec2": {"endpoints": {"us-east-1": {}, "eu-west-1": {}, "fips-us-east-1": {}}}, "s3": {"endpoints": {"aws-global": {}}}}},
		{"regions": {"cn-north-1": {}}, "services": {"ec2": {"endpoints": {"cn-north-1": {}}}}}
	]}`
	if err := os.WriteFile(filepath.Join(dir, "endpoints.json"), []byte(endpoints), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ec2Regions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cn-north-1", "eu-west-1", "us-east-1"}; !slices.Equal(got, want) {
		t.Errorf("regions %v, want %v", got, want)
	}
}

// TestOverlay: through the overlay, moto's ec2 models find each region's
// images plus the catalogue, as ec2/models/../resources/latest_amis, and
// everything else of the package as it is; removing the overlay leaves
// the package alone.
func TestOverlay(t *testing.T) {
	pkg := filepath.Join(t.TempDir(), "moto")
	files := map[string]string{
		"__init__.py":                      "",
		"core/responses.py":                "",
		"ec2/__init__.py":                  "",
		"ec2/models/__init__.py":           "",
		"ec2/models/amis.py":               "",
		"ec2/resources/amis.json":          `[{"ami_id": "ami-shipped"}]`,
		"ec2/resources/ecs/optimized.json": "",
	}
	for name, content := range files {
		p := filepath.Join(pkg, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(`[{"ami_id": "ami-0al2023", "name": "al2023-ami-2023.5.20240701.0-kernel-6.1-x86_64"}]`)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(pkg, "ec2/resources/latest_amis"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "ec2/resources/latest_amis/us-east-1.json.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	c, err := buildCatalogue(pkg, []string{"us-east-1", "mx-central-1"})
	if err != nil {
		t.Fatal(err)
	}
	overlay := t.TempDir()
	if err := c.writeOverlay(overlay); err != nil {
		t.Fatal(err)
	}
	// The path as moto joins it, not cleaned: the kernel resolves "..".
	models := overlay + "/moto/ec2/models/"
	for region, shipped := range map[string]int{"us-east-1": 1, "mx-central-1": 0} {
		b, err := os.ReadFile(models + "../resources/latest_amis/" + region + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var images []motoAMI
		if err := json.Unmarshal(b, &images); err != nil {
			t.Fatal(err)
		}
		if len(images) != shipped+len(catalogue) || (shipped > 0 && images[0].ID != "ami-0al2023") {
			t.Errorf("%s: %d images %+v, want moto's %d and the catalogue's %d", region, len(images), images, shipped, len(catalogue))
		}
	}
	for _, name := range []string{"__init__.py", "core/responses.py", "ec2/models/amis.py", "ec2/resources/ecs/optimized.json"} {
		if _, err := os.Stat(filepath.Join(overlay, "moto", name)); err != nil {
			t.Errorf("overlay: %v", err)
		}
	}
	if b, err := os.ReadFile(models + "../resources/amis.json"); err != nil || !bytes.Contains(b, []byte("ami-shipped")) {
		t.Errorf("moto's own catalogue through the overlay: %q, %v", b, err)
	}

	if err := os.RemoveAll(overlay); err != nil {
		t.Fatal(err)
	}
	for name := range files {
		if _, err := os.Stat(filepath.Join(pkg, name)); err != nil {
			t.Errorf("the package after removing the overlay: %v", err)
		}
	}
}

package manifest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sample returns an artifact of run runID; dir holds its file boot.img.
func sample(dir, runID string) *artifact.Artifact {
	return &artifact.Artifact{
		BuildName: "web.amazon-ebs.al2023", BuilderType: "amazon-ebs", RunID: runID,
		Source: artifact.Source{ImageID: "ami-0123456789abcdef0", Name: "al2023-ami-2023.1", Owner: "137112412989",
			CreationDate: "2024-01-02T03:04:05.000Z", Tags: map[string]string{"os": "al2023"}},
		Images: []artifact.Image{
			{Region: "us-east-1", ImageID: "ami-11111111111111111", Snapshots: []string{"snap-1"}},
			{Region: "eu-west-1", ImageID: "ami-22222222222222222", Snapshots: []string{"snap-2"}},
		},
		Started:  time.Unix(1700000000, 0),
		Duration: 125*time.Second + 400*time.Millisecond,
		Files:    []string{filepath.Join(dir, "out", "boot.img")},
	}
}

// postProcess prepares c and runs it with dir as the template directory.
func postProcess(t *testing.T, c Config, dir string, a *artifact.Artifact) {
	t.Helper()
	ctx := &check.Context{BaseDir: dir}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	got, err := c.PostProcess(context.Background(), &artifact.Env{BaseDir: dir}, a)
	if err != nil {
		t.Fatal(err)
	}
	if got != a {
		t.Error("PostProcess did not return its input artifact")
	}
}

func read(t *testing.T, path string) (raw []byte, m struct {
	Builds      []map[string]any `json:"builds"`
	LastRunUUID string           `json:"last_run_uuid"`
}) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return raw, m
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out", "boot.img"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Config{Output: "dist/manifest.json", StripPath: true, CustomData: map[string]string{
		"source":  "{{ .SourceAMI }} ({{ .SourceAMIName }}, {{ .SourceAMITags.os }})",
		"region":  "{{ .BuildRegion }}",
		"stamp":   "{{ timestamp }} {{ build_name }} {{ build_type }}",
		"literal": "no placeholders",
	}}
	postProcess(t, c, dir, sample(dir, "run-1"))
	got, _ := read(t, filepath.Join(dir, "dist", "manifest.json"))
	golden := filepath.Join("testdata", "manifest.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("manifest differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		c       Config
		noFiles bool
		check   func(b map[string]any) string
	}{
		{"defaults", Config{}, false, func(b map[string]any) string {
			files := b["files"].([]any)
			if b["build_time"] != float64(1700000125) || !strings.HasSuffix(files[0].(map[string]any)["name"].(string), "/out/boot.img") {
				return "want build_time = end of build and the full file path"
			}
			return ""
		}},
		{"strip_time", Config{StripTime: true}, false, func(b map[string]any) string {
			if _, ok := b["build_time"]; ok {
				return "build_time present"
			}
			return ""
		}},
		{"no files", Config{}, true, func(b map[string]any) string {
			if v, ok := b["files"]; !ok || v != nil {
				return "want files: null"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a := sample(dir, "run-1")
			if tt.noFiles {
				a.Files = nil
			}
			postProcess(t, tt.c, dir, a)
			_, m := read(t, filepath.Join(dir, DefaultOutput))
			if msg := tt.check(m.Builds[0]); msg != "" {
				t.Errorf("%s: %v", msg, m.Builds[0])
			}
		})
	}
}

func TestAppendAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultOutput)
	packer := `{"builds": [{"name": "old", "builder_type": "amazon-ebs", "artifact_id": "us-east-1:ami-0", "packer_run_uuid": "packer-run", "custom_data": null, "files": null, "extra": 7}], "last_run_uuid": "packer-run"}`
	if err := os.WriteFile(path, []byte(packer), 0o644); err != nil {
		t.Fatal(err)
	}
	postProcess(t, Config{}, dir, sample(dir, "run-1"))
	postProcess(t, Config{}, dir, sample(dir, "run-2"))
	_, m := read(t, path)
	var runs []string
	for _, b := range m.Builds {
		runs = append(runs, b["packer_run_uuid"].(string))
	}
	if got := strings.Join(runs, ","); got != "packer-run,run-1,run-2" || m.LastRunUUID != "run-2" {
		t.Errorf("runs %s, last_run_uuid %s; want packer-run,run-1,run-2 and run-2", got, m.LastRunUUID)
	}
	if m.Builds[0]["extra"] != float64(7) {
		t.Errorf("the Packer entry lost a field: %v", m.Builds[0])
	}
}

func TestConcurrentBuilds(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			a := sample(dir, "run-1")
			a.BuildName = fmt.Sprintf("build-%d", i)
			c := Config{Output: "m.json"}
			c.Prepare(&check.Context{})
			if _, err := c.PostProcess(context.Background(), &artifact.Env{BaseDir: dir}, a); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	_, m := read(t, filepath.Join(dir, "m.json"))
	seen := map[any]bool{}
	for _, b := range m.Builds {
		seen[b["name"]] = true
	}
	if len(m.Builds) != 10 || len(seen) != 10 {
		t.Errorf("manifest has %d builds (%d distinct), want 10", len(m.Builds), len(seen))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".m.json.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, existing string
		custom         map[string]string
		want           string
	}{
		{"corrupt manifest", "{not json", nil, "manifest packer-manifest.json: parse existing manifest: "},
		{"unknown placeholder", "", map[string]string{"k": "{{ .Nope }}"}, "custom_data k: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.existing != "" {
				if err := os.WriteFile(filepath.Join(dir, DefaultOutput), []byte(tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := Config{CustomData: tt.custom}
			c.Prepare(&check.Context{})
			_, err := c.PostProcess(context.Background(), &artifact.Env{BaseDir: dir}, sample(dir, "r"))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %v, want prefix %q", err, tt.want)
			}
		})
	}
}

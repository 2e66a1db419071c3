package runner

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// TestWriteBootPayload checks that a build with a payload writes it under
// its full name and records it once on the artifact, and that one without
// leaves the artifact alone.
func TestWriteBootPayload(t *testing.T) {
	dir := t.TempDir()
	bp := &plan.BuildPlan{Name: "app.amazon-ebs.web", BootPayload: []byte("#!/bin/sh\necho hi\n")}
	a := &artifact.Artifact{Files: []string{"other"}}
	for range 2 {
		if err := writeBootPayload(bp, dir, a); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(dir, "app.amazon-ebs.web.user-data")
	if a.BootPayload != want || !slices.Equal(a.Files, []string{"other", want}) {
		t.Errorf("artifact: boot payload %q, files %v", a.BootPayload, a.Files)
	}
	if got, err := os.ReadFile(want); err != nil || string(got) != string(bp.BootPayload) {
		t.Errorf("file: %q, %v", got, err)
	}

	none := &artifact.Artifact{}
	if err := writeBootPayload(&plan.BuildPlan{Name: "base.amazon-ebs.os"}, dir, none); err != nil || none.BootPayload != "" || none.Files != nil {
		t.Errorf("without a payload: %v, %+v", err, none)
	}
	if _, err := os.Stat(filepath.Join(dir, "base.amazon-ebs.os.user-data")); !os.IsNotExist(err) {
		t.Errorf("a file was written for a build without a payload: %v", err)
	}
}

package journal

import (
	"cmp"
	"os"
	"strings"
	"testing"
)

// createRun creates a run in a fresh state directory.
func createRun(t testing.TB, runID string) (dir string, w *Writer) {
	t.Helper()
	dir = t.TempDir()
	w, err := Create(dir, Header{RunID: runID, Template: "web.pkr.hcl", Builds: []string{"web"}, Version: "0.1.0"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return dir, w
}

func mustRead(t *testing.T, path string) *Run {
	t.Helper()
	run, err := Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return run
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustIntent(t *testing.T, w *Writer, r Resource) Ref {
	t.Helper()
	ref, err := w.Intent(r)
	must(t, err)
	return ref
}

// appendRaw appends bytes to a file behind the Writer's back.
func appendRaw(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	defer f.Close()
	_, err = f.WriteString(s)
	must(t, err)
}

// ids renders resources as "type:id" (or "type:token" for intents).
func ids(rs []Resource) string {
	var b []string
	for _, r := range rs {
		b = append(b, string(r.Type)+":"+cmp.Or(r.ID, r.ClientToken))
	}
	return strings.Join(b, " ")
}

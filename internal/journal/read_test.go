package journal

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestTornTail: a partial last line, as a crash in mid-write leaves, is
// ignored with a warning; Resume drops it and appends after it.
func TestTornTail(t *testing.T) {
	dir, w := createRun(t, "torn")
	must(t, w.Created(mustIntent(t, w, web), "i-1"))
	must(t, w.Close())
	appendRaw(t, w.Path(), `{"seq":4,"kind":"intent","time":"2026-01-02T03:04:05Z","resou`)

	run := mustRead(t, w.Path())
	if !run.TornTail || len(run.Warnings) != 1 || !strings.Contains(run.Warnings[0], w.Path()+" line 4") {
		t.Fatalf("torn=%v warnings=%q, want one warning naming line 4", run.TornTail, run.Warnings)
	}
	if ids(run.Resources) != "instance:i-1" {
		t.Errorf("resources = %s, want the intact records", ids(run.Resources))
	}

	w2, err := Resume(dir, "torn")
	must(t, err)
	defer w2.Close()
	must(t, w2.Deleted(Instance, "us-east-1", "i-1"))
	run = mustRead(t, w2.Path())
	if run.TornTail || run.Resources[0].State != StateDeleted {
		t.Errorf("after Resume: torn=%v resources=%+v", run.TornTail, run.Resources)
	}
}

// TestCorruptLine: anything wrong before the last line is an error naming
// the file and the line.
func TestCorruptLine(t *testing.T) {
	tests := []struct {
		name string
		edit func(lines []string) []string // lines: header, intent, created
		line string
		want string
	}{
		{"garbage", func(l []string) []string { l[1] = "{not json"; return l }, "line 2", "corrupt record"},
		{"empty line", func(l []string) []string { l[1] = ""; return l }, "line 2", "corrupt record"},
		{"lost line", func(l []string) []string { return append(l[:1], l[2:]...) }, "line 2", "record number 3 follows 1"},
		{"no header", func(l []string) []string { return l[1:] }, "line 1", "record number 2 follows 0"},
		{"second header", func(l []string) []string { l[2] = strings.Replace(l[0], `"seq":1`, `"seq":3`, 1); return l },
			"line 3", "a run starts with its one header"},
		{"unknown ref", func(l []string) []string { l[2] = strings.Replace(l[2], `"ref":2`, `"ref":7`, 1); return l },
			"line 3", "not an unresolved intent"},
		{"unknown kind", func(l []string) []string { l[2] = strings.Replace(l[2], `"created"`, `"borrowed"`, 1); return l },
			"line 3", "unknown record kind"},
		{"newer format", func(l []string) []string {
			l[0] = strings.Replace(l[0], fmt.Sprintf(`"format":%d`, formatVersion), `"format":9`, 1)
			return l
		},
			"line 1", "newer imgbuild"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, w := createRun(t, "corrupt")
			must(t, w.Created(mustIntent(t, w, web), "i-1"))
			must(t, w.Close())
			data, err := os.ReadFile(w.Path())
			must(t, err)
			lines := tt.edit(strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"))
			must(t, os.WriteFile(w.Path(), []byte(strings.Join(lines, "\n")+"\n"), 0o600))

			_, err = Read(w.Path())
			if err == nil || !strings.Contains(err.Error(), w.Path()+" "+tt.line) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Read error = %v, want %q naming %s %s", err, tt.want, w.Path(), tt.line)
			}
		})
	}
}

func TestReadNoHeader(t *testing.T) {
	_, w := createRun(t, "empty")
	must(t, w.Close())
	must(t, os.WriteFile(w.Path(), []byte(`{"seq":1,"kind":"hea`), 0o600))
	if _, err := Read(w.Path()); err == nil || !strings.Contains(err.Error(), "no header record") {
		t.Errorf("Read of a torn header = %v, want no header error", err)
	}
}

package ssh

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
)

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"one line", []string{"hello\n"}, "> hello\n"},
		{"line split across writes", []string{"hel", "lo\nwor", "ld\n"}, "> hello\n> world\n"},
		{"several lines in one write", []string{"a\nb\nc\n"}, "> a\n> b\n> c\n"},
		{"crlf from a pty", []string{"a\r\nb\r\n"}, "> a\n> b\n"},
		{"empty lines kept", []string{"\n\n"}, "> \n> \n"},
		{"partial line flushed on close", []string{"done\npartial"}, "> done\n> partial\n"},
		{"nothing written", nil, ""},
		{"long complete line kept whole", []string{long + "\n"}, "> " + long + "\n"},
		{"overlong partial line written in pieces", []string{long, "\n"}, "> " + long[:maxLine] + "\n> " + long[maxLine:] + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := NewLineWriter("> ", &out)
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output = %.200q (%d bytes), want %.200q (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
		})
	}
}

func TestLineWriterConcurrentWritersKeepLinesWhole(t *testing.T) {
	var out bytes.Buffer
	w := NewLineWriter("[b] ", &out)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(w, "writer %d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("got %d lines, want 400", len(lines))
	}
	sort.Strings(lines)
	for _, l := range lines {
		var g, i int
		if _, err := fmt.Sscanf(l, "[b] writer %d line %d", &g, &i); err != nil {
			t.Fatalf("mangled line %q", l)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestLineWriterReportsWriteErrors(t *testing.T) {
	w := NewLineWriter("> ", failingWriter{})
	if _, err := w.Write([]byte("x\n")); err == nil {
		t.Fatal("Write succeeded on a failing writer")
	}
	if err := w.Close(); err == nil {
		t.Error("Close did not report the earlier error")
	}
}

package winrm

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

func TestBase64Writer(t *testing.T) {
	data := []byte("The quick brown fox jumps over the lazy dog, 0123456789!")
	whole := base64.StdEncoding.EncodeToString(data)
	// Blocks encoded separately, as a script that reads a file in pieces
	// may print them: padding in the middle.
	blocks := base64.StdEncoding.EncodeToString(data[:10]) + base64.StdEncoding.EncodeToString(data[10:20]) + base64.StdEncoding.EncodeToString(data[20:])
	tests := []struct {
		name string
		text string
		cuts []int // write in pieces ending at these offsets
	}{
		{"one write with CRLF", whole + "\r\n", nil},
		{"byte by byte", whole + "\r\n", seq(len(whole) + 2)},
		{"padded blocks", blocks + "\n", []int{3, 17, 18, 30}},
		{"wrapped lines", strings.Join(split(whole, 7), "\r\n"), []int{5, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &base64Writer{w: &out}
			prev := 0
			for _, c := range append(tt.cuts, len(tt.text)) {
				if c > len(tt.text) {
					c = len(tt.text)
				}
				if _, err := w.Write([]byte(tt.text[prev:c])); err != nil {
					t.Fatalf("Write: %v", err)
				}
				prev = c
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Errorf("decoded %q", out.Bytes())
			}
		})
	}
}

func TestBase64WriterErrors(t *testing.T) {
	w := &base64Writer{w: &bytes.Buffer{}}
	if _, err := w.Write([]byte("not*base64!")); err == nil {
		t.Error("Write accepted invalid base64")
	}
	w = &base64Writer{w: &bytes.Buffer{}}
	w.Write([]byte("QUJD" + "QQ"))
	if err := w.Close(); err == nil {
		t.Error("Close accepted a partial block")
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func split(s string, n int) []string {
	var parts []string
	for len(s) > n {
		parts, s = append(parts, s[:n]), s[n:]
	}
	return append(parts, s)
}

func TestParseList(t *testing.T) {
	entries, err := parseList("d sub\r\nf 12 sub\\a b.txt\r\nf 0 empty\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || !entries[0].dir || entries[1].size != 12 || strings.Join(entries[1].parts, "/") != "sub/a b.txt" {
		t.Errorf("entries = %+v", entries)
	}
	for _, bad := range []string{"f 1 ..\\x", "d C:\\abs", "x what", "f big name", "d sub\\\\x"} {
		if _, err := parseList(bad); err == nil {
			t.Errorf("parseList(%q) accepted it", bad)
		}
	}
}

func TestRemotePaths(t *testing.T) {
	for _, tt := range []struct{ dir, rel, want string }{
		{`C:\a`, "b/c", `C:\a\b\c`},
		{`C:\a\`, "b", `C:\a\b`},
		{`C:/a/`, "b", `C:/a\b`},
		{`C:\`, "b", `C:\b`},
	} {
		if got := joinRemote(tt.dir, tt.rel); got != tt.want {
			t.Errorf("joinRemote(%q, %q) = %q, want %q", tt.dir, tt.rel, got, tt.want)
		}
	}
	for p, want := range map[string]string{`C:\a\tree`: "tree", `C:/a/tree/`: "tree", `tree`: "tree", `C:`: "C:"} {
		if got := remoteBase(p); got != want {
			t.Errorf("remoteBase(%q) = %q, want %q", p, got, want)
		}
	}
}

package ui

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// rsaPEM returns a PEM-encoded RSA private key: about 25 lines of 64
// characters between its armor lines.
func rsaPEM(t testing.TB) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestMaskValues(t *testing.T) {
	var m Masker
	m.Add("hunter2", "ab", "", "abc", "abcdef")
	tests := []struct{ in, want string }{
		{"password: hunter2.", "password: <sensitive>."},
		{"hunter2hunter2", "<sensitive><sensitive>"},
		{"short ab stays", "short ab stays"},
		{"longest first: xabcdefx", "longest first: x<sensitive>x"},
		{"abc alone", "<sensitive> alone"},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := m.Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var empty Masker
	if got := empty.Mask("hunter2"); got != "hunter2" {
		t.Errorf("a Masker without secrets changed %q", got)
	}
}

// TestMaskMultiLineSecret checks that a PEM key printed by a script, one
// line at a time as command output is, leaves none of its lines visible,
// whatever the line endings and indentation, and that the whole key in one
// piece becomes one marker.
func TestMaskMultiLineSecret(t *testing.T) {
	key := rsaPEM(t)
	lines := strings.Split(strings.TrimSpace(key), "\n")
	tests := []struct {
		name    string
		printed string
	}{
		{"as is", key},
		{"CRLF", strings.ReplaceAll(key, "\n", "\r\n")},
		{"indented", "key:\n  " + strings.ReplaceAll(strings.TrimSpace(key), "\n", "\n  ") + "\n"},
		{"inside other output", "before " + key + " after\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			u := New(&out, &errOut)
			u.Masker().Add(key)
			w := u.LineWriter("web")
			fmt.Fprint(w, tt.printed)
			w.Close()
			for _, l := range lines {
				if len(l) >= minSecretLen && strings.Contains(out.String(), l) {
					t.Fatalf("line %q of the key is visible:\n%s", l, out.String())
				}
			}
			if n := strings.Count(out.String(), Masked); n < len(lines) {
				t.Errorf("%d lines masked, want at least %d:\n%s", n, len(lines), out.String())
			}
		})
	}
	var m Masker
	m.Add(key)
	if got := m.Mask("key=" + key); got != "key="+Masked {
		t.Errorf("the whole key in one piece: got %q, want one marker", got)
	}
}

// TestMaskConcurrent adds secrets while other goroutines mask (run with
// -race).
func TestMaskConcurrent(t *testing.T) {
	var m Masker
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				m.Add(fmt.Sprintf("secret-%d-%d", i, j))
				_ = m.Mask(fmt.Sprintf("value secret-%d-%d", i, j))
			}
		})
	}
	wg.Wait()
	if got := m.Mask("secret-3-49 secret-0-0"); got != Masked+" "+Masked {
		t.Errorf("after concurrent adds: %q", got)
	}
}

// BenchmarkMask masks one line of ordinary output, and one that holds a
// secret, against 100 passwords and 20 PEM keys (about 600 secrets).
func BenchmarkMask(b *testing.B) {
	var m Masker
	for i := range 100 {
		m.Add(fmt.Sprintf("password-%03d-Zq8!", i))
	}
	key := rsaPEM(b)
	for i := range 20 {
		m.Add(strings.Replace(key, "\n", fmt.Sprintf("\nX%02d", i), -1))
	}
	plain := "    web.amazon-ebs.al2023: Installed: nginx-1.24.0-1.amzn2023.0.2.x86_64 (from amazonlinux repository)"
	secret := plain + " password-042-Zq8!"
	for _, bc := range []struct{ name, line string }{{"no secret", plain}, {"one secret", secret}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Mask(bc.line)
			}
		})
	}
}

package ui

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Masked is what a secret is replaced with.
const Masked = "<sensitive>"

// minSecretLen is the length below which a value (or a line of a
// multi-line value) is not masked: masking "a" or "on" would garble
// ordinary output and hide nothing worth hiding.
const minSecretLen = 3

// Masker replaces secret values with Masked in text. Output is masked one
// line at a time, so a secret that spans lines (a PEM private key, a JSON
// credentials file) is also masked line by line: each of its lines that is
// at least minSecretLen long, once trimmed, is a secret of its own, and the
// whole value still matches where it appears in one piece.
//
// A Masker is safe for concurrent use. Mask takes no lock: Add rebuilds
// one strings.Replacer (a trie of every secret, longest first, so a secret
// is never cut short by one of its own lines) that Mask only reads.
type Masker struct {
	mu       sync.Mutex // serialises Add
	secrets  map[string]struct{}
	replacer atomic.Pointer[strings.Replacer]
}

// Add registers secret values. Empty and very short values are ignored.
func (m *Masker) Add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	for _, v := range values {
		for _, s := range secretForms(v) {
			if _, ok := m.secrets[s]; ok {
				continue
			}
			if m.secrets == nil {
				m.secrets = map[string]struct{}{}
			}
			m.secrets[s] = struct{}{}
			added = true
		}
	}
	if added {
		m.replacer.Store(newReplacer(m.secrets))
	}
}

// Mask returns s with every registered secret replaced by Masked.
func (m *Masker) Mask(s string) string {
	r := m.replacer.Load()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// secretForms returns what to mask for value v: v itself and, when v spans
// lines, each significant line of it, trimmed of surrounding white space
// (indentation and a "\r" differ from one printer to the next).
func secretForms(v string) []string {
	var out []string
	if len(v) >= minSecretLen {
		out = append(out, v)
	}
	if !strings.ContainsAny(v, "\r\n") {
		return out
	}
	for line := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if line = strings.TrimSpace(line); len(line) >= minSecretLen {
			out = append(out, line)
		}
	}
	return out
}

// newReplacer returns a Replacer of every secret by Masked. Longer secrets
// come first: at a position where several match, the Replacer takes the
// first in argument order, and the longest hides the most.
func newReplacer(secrets map[string]struct{}) *strings.Replacer {
	sorted := make([]string, 0, len(secrets))
	for s := range secrets {
		sorted = append(sorted, s)
	}
	slices.SortFunc(sorted, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	pairs := make([]string, 0, 2*len(sorted))
	for _, s := range sorted {
		pairs = append(pairs, s, Masked)
	}
	return strings.NewReplacer(pairs...)
}

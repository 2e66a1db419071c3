package ui

import (
	"strings"
	"sync"
)

// Masker replaces secret values with "<sensitive>" in text.
type Masker struct {
	mu      sync.RWMutex
	secrets []string
}

// Add registers secret values; empty and very short values are ignored
// because masking them would garble ordinary output.
func (m *Masker) Add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range values {
		if len(v) >= 3 {
			m.secrets = append(m.secrets, v)
		}
	}
}

// Mask returns s with every registered secret replaced.
func (m *Masker) Mask(s string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, v := range m.secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "<sensitive>")
		}
	}
	return s
}

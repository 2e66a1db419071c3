package ssmparameter

import (
	"strings"
	"testing"
)

// TestCheckBootPayload checks what the plan asks before the build: a
// payload over the Advanced tier's 8 KB, or gzip (not text), is refused
// when boot_payload_name would publish it.
func TestCheckBootPayload(t *testing.T) {
	tests := []struct {
		name        string
		payloadName string
		payload     []byte
		ok          bool
	}{
		{"fits", "/p", []byte(strings.Repeat("x", 8192)), true},
		{"too large", "/p", []byte(strings.Repeat("x", 8193)), false},
		{"gzip", "/p", []byte{0x1f, 0x8b, 0x08, 0xff, 0xfe}, false},
		{"no payload", "/p", nil, true},
		{"not published", "", []byte(strings.Repeat("x", 9000)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Name: "/n", BootPayloadName: tt.payloadName}
			if err := c.CheckBootPayload(tt.payload); (err == nil) != tt.ok {
				t.Errorf("CheckBootPayload = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

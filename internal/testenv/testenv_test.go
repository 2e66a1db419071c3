package testenv

import "testing"

func TestRequiredParsesList(t *testing.T) {
	for _, tc := range []struct {
		dep, list string
		want      bool
	}{
		{"moto", "", false},
		{"moto", "moto", true},
		{"sshd", "moto, sshd", true},
		{"sshd", "moto", false},
		{"root", "all", true},
		{"moto", "motorbike", false},
	} {
		if got := required(tc.dep, tc.list); got != tc.want {
			t.Errorf("required(%q, %q) = %v, want %v", tc.dep, tc.list, got, tc.want)
		}
	}
}

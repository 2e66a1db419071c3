package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAMIName(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"simple", "my-image", true},
		{"all allowed chars", "a (b) [c] d/e.f-g'h@i_j", true},
		{"min length", "abc", true},
		{"too short", "ab", false},
		{"max length", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"colon", "img:1", false},
		{"comma", "img,1", false},
		{"non ascii", "imagé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := AMIName(tt.in); (err == nil) != tt.ok {
				t.Errorf("AMIName(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestTemplatedAMIName(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"timestamp", "web-{{timestamp}}", true},
		{"source name", "{{ .SourceAMIName }}-copy", true},
		{"isotime colon", "web-{{isotime}}", false},
		{"isotime cleaned", "web-{{isotime | clean_resource_name}}", true},
		{"unknown placeholder", "web-{{ .Nope }}", false},
		{"syntax error", "web-{{ timestamp", false},
		{"short after render", "{{ lower \"AB\" }}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := TemplatedAMIName(tt.in); (err == nil) != tt.ok {
				t.Errorf("TemplatedAMIName(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestRegion(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"us-east-1", true}, {"eu-central-2", true}, {"ap-southeast-3", true},
		{"us-gov-west-1", true}, {"cn-north-1", true}, {"il-central-1", true},
		{"us-isob-east-1", true}, {"US-EAST-1", false}, {"us-east", false},
		{"useast1", false}, {"us-east-1a", false}, {"", false}, {"u-east-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if err := Region(tt.in); (err == nil) != tt.ok {
				t.Errorf("Region(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestAMIID(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"ami-12345678", true}, {"ami-0123456789abcdef0", true},
		{"ami-1234567", false}, {"ami-123456789", false}, {"ami-0123456789ABCDEF0", false},
		{"snap-12345678", false}, {"ami-xyz45678", false}, {"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if err := AMIID(tt.in); (err == nil) != tt.ok {
				t.Errorf("AMIID(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"5m", true}, {"1h30m", true}, {"0s", true}, {"300ms", true},
		{"5", false}, {"five minutes", false}, {"-1m", false}, {"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if _, err := Duration(tt.in); (err == nil) != tt.ok {
				t.Errorf("Duration(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
	if got := DurationValue("1h30m"); got.Minutes() != 90 {
		t.Errorf("DurationValue(1h30m) = %v", got)
	}
	if got := DurationValue("bad"); got != 0 {
		t.Errorf("DurationValue(bad) = %v, want 0", got)
	}
}

func TestSmallValidators(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"rfc3339 ok", RFC3339("2030-01-02T15:04:05Z"), true},
		{"rfc3339 offset", RFC3339("2030-01-02T15:04:05+02:00"), true},
		{"rfc3339 date only", RFC3339("2030-01-02"), false},
		{"oneof ok", OneOf("stop", "stop", "terminate"), true},
		{"oneof bad", OneOf("halt", "stop", "terminate"), false},
		{"cidr ok", CIDR("10.0.0.0/8"), true},
		{"cidr v6", CIDR("2001:db8::/32"), true},
		{"cidr bad", CIDR("10.0.0.1"), false},
		{"userdata max", UserDataSize(MaxUserData), true},
		{"userdata over", UserDataSize(MaxUserData + 1), false},
		{"env ok", EnvVar("A=b=c"), true},
		{"env empty value", EnvVar("A="), true},
		{"env no equals", EnvVar("A"), false},
		{"env no key", EnvVar("=b"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.err == nil) != tt.ok {
				t.Errorf("got %v, want ok=%v", tt.err, tt.ok)
			}
		})
	}
}

func TestFileExists(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.sh"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path  string
		file, path2 bool
	}{
		{"relative file", "f.sh", true, true},
		{"absolute file", filepath.Join(dir, "f.sh"), true, true},
		{"missing", "nope.sh", false, false},
		{"directory", ".", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := FileExists(dir, tt.path); (err == nil) != tt.file {
				t.Errorf("FileExists(%q) = %v, want ok=%v", tt.path, err, tt.file)
			}
			if err := PathExists(dir, tt.path); (err == nil) != tt.path2 {
				t.Errorf("PathExists(%q) = %v, want ok=%v", tt.path, err, tt.path2)
			}
		})
	}
}

func TestCommandTemplate(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"default shell", "chmod +x {{.Path}}; {{.Vars}} {{.Path}}", true},
		{"no placeholders", "sudo sh {{ .Path }}", true},
		{"unknown placeholder", "{{.Script}}", false},
		{"syntax error", "{{.Path", false},
		{"legacy func", "{{timestamp}}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CommandTemplate(tt.in, "Path", "Vars"); (err == nil) != tt.ok {
				t.Errorf("CommandTemplate(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestWindowsUserData(t *testing.T) {
	for _, tc := range []struct {
		in, err string
	}{
		{"#!/bin/sh\necho <b>hi</b>\n", ""},
		{"<powershell>\nwinrm quickconfig -q\n</powershell>\n<persist>true</persist>", ""},
		{"<script>echo hi</script><powershell>Write-Host</powershell>", ""},
		{"<PowerShell>\nwinrm quickconfig -q\n</PowerShell>", "<PowerShell> must be written <powershell>"},
		{"<powershell>\nwinrm quickconfig -q\n</POWERSHELL>", "</POWERSHELL> must be written </powershell>"},
		{"<powershell>\nwinrm quickconfig -q\n", "<powershell> appears 1 times and </powershell> 0 times"},
		{"<runaslocalsystem>true</runaslocalsystem>", "must be written <runAsLocalSystem>"},
	} {
		err := WindowsUserData(tc.in)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("WindowsUserData(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

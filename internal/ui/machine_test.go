package ui

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMachineReadableFormat: Packer's documented form
// "timestamp,target,type,data...", commas in data as %!(PACKER_COMMA),
// carriage returns and newlines escaped, errors as ui,error on the output.
func TestMachineReadableFormat(t *testing.T) {
	var out, errOut bytes.Buffer
	u := New(&out, &errOut)
	u.SetMachineReadable(true)
	u.Say("plain, with a comma\nand a line\r")
	u.Sayf("web", "step %d", 1)
	u.Error("it broke")
	u.ArtifactEvents("web", 0, "mitchellh.amazonebs", "us-east-1:ami-1,eu-west-1:ami-2", "AMIs were created:\nus-east-1: ami-1\n")
	if errOut.Len() != 0 {
		t.Errorf("machine-readable errors went to the error stream: %q", errOut.String())
	}
	want := []string{
		`,,ui,say,plain%!(PACKER_COMMA) with a comma\nand a line\r`,
		`,web,ui,say,step 1`,
		`,,ui,error,imgbuild: error: it broke`,
		`,web,artifact,0,builder-id,mitchellh.amazonebs`,
		`,web,artifact,0,id,us-east-1:ami-1%!(PACKER_COMMA)eu-west-1:ami-2`,
		`,web,artifact,0,string,AMIs were created:\nus-east-1: ami-1\n`,
		`,web,artifact,0,files-count,0`,
		`,web,artifact,0,end`,
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	ts := regexp.MustCompile(`^[0-9]{10}`)
	for i, l := range lines {
		if !ts.MatchString(l) || l[10:] != want[i] {
			t.Errorf("line %d = %q, want <unix time>%s", i, l, want[i])
		}
	}
}

// TestTimestampUI: -timestamp-ui prefixes every line, output and errors,
// with an RFC3339 time, as Packer's TimestampedUi.
func TestTimestampUI(t *testing.T) {
	var out, errOut bytes.Buffer
	u := New(&out, &errOut)
	u.now = func() time.Time { return time.Date(2026, 12, 4, 9, 0, 1, 0, time.UTC) }
	u.Say("hello")
	u.SetTimestamps(true)
	u.Sayf("web", "launching")
	u.Error("bad")
	if got, want := out.String(), "hello\n2026-12-04T09:00:01Z: ==> web: launching\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if got, want := errOut.String(), "2026-12-04T09:00:01Z: imgbuild: error: bad\n"; got != want {
		t.Errorf("errors %q, want %q", got, want)
	}
}

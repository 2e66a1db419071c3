package runner

import (
	"context"
	"testing"

	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/provision"
)

type nested struct {
	Command string
}

type fakeProv struct {
	Inline   []string
	Elevated string
	Env      map[string]string
	Exec     string
	nested
	Inner  nested
	hidden string
}

func (*fakeProv) Provision(context.Context, *provision.Env) error { return nil }

func TestWithBuildValues(t *testing.T) {
	orig := &fakeProv{
		Inline:   []string{"echo {{ .ID }}", "plain"},
		Elevated: "{{ .Password }}",
		Env:      map[string]string{"PW": "{{.WinRMPassword}}"},
		Exec:     "&'{{.Path}}' on {{ .Host }}",
		nested:   nested{Command: "{{ .User }}"},
		Inner:    nested{Command: "{{ .ConnType }}"},
		hidden:   "{{ .ID }}",
	}
	data := interpolate.Data{ID: "i-9", Password: "s3cret", WinRMPassword: "s3cret", Host: "127.0.1.2", User: "Administrator", ConnType: "winrm"}
	got := withBuildValues(orig, data).(*fakeProv)
	if got == orig {
		t.Fatal("the configuration was not copied")
	}
	want := fakeProv{
		Inline: []string{"echo i-9", "plain"}, Elevated: "s3cret", Env: map[string]string{"PW": "s3cret"},
		Exec: "&'{{.Path}}' on 127.0.1.2", nested: nested{Command: "{{ .User }}"}, Inner: nested{Command: "winrm"},
		hidden: "{{ .ID }}",
	}
	if got.Inline[0] != want.Inline[0] || got.Inline[1] != want.Inline[1] || got.Elevated != want.Elevated ||
		got.Env["PW"] != want.Env["PW"] || got.Exec != want.Exec || got.Inner != want.Inner || got.hidden != want.hidden {
		t.Errorf("rendered %+v, want %+v", *got, want)
	}
	if orig.Inline[0] != "echo {{ .ID }}" || orig.Env["PW"] != "{{.WinRMPassword}}" || orig.Elevated != "{{ .Password }}" {
		t.Errorf("the original changed: %+v", *orig)
	}
}

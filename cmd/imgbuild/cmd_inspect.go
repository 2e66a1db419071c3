package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/imgbuild/imgbuild/internal/template"
)

var inspectCommand = command{
	synopsis: "Show a template's variables, sources, builds and steps",
	usage:    "inspect [options] PATH",
	run:      runInspect,
}

func runInspect(_ context.Context, e *env, args []string) int {
	var tf templateFlags
	fs := newFlagSet(e, "inspect")
	tf.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	path, ok := onePath(e, fs)
	if !ok {
		return exitUsage
	}
	t, code := loadTemplate(e, path, tf, templateOptions())
	if t == nil {
		return code
	}
	var b strings.Builder
	writeInspect(&b, t)
	fmt.Fprint(e.stdout, e.ui.Masker().Mask(b.String()))
	return exitOK
}

func writeInspect(w io.Writer, t *template.Template) {
	fmt.Fprintln(w, "Variables:")
	if len(t.Variables) == 0 {
		fmt.Fprintln(w, "  <none>")
	}
	for _, name := range sortedNames(t.Variables) {
		v := t.Variables[name]
		val := "<sensitive>"
		if !v.Sensitive {
			val = showValue(v.Value)
		}
		fmt.Fprintf(w, "  var.%s: %s = %s (from %s)\n", name, typeexpr.TypeString(v.Type), val, v.ValueFrom)
		if v.Description != "" {
			fmt.Fprintf(w, "      %s\n", v.Description)
		}
	}
	fmt.Fprintln(w, "\nData sources:")
	if len(t.Data) == 0 {
		fmt.Fprintln(w, "  <none>")
	}
	for _, key := range sortedNames(t.Data) {
		fmt.Fprintf(w, "  data.%s\n", key)
	}
	fmt.Fprintln(w, "\nSources:")
	for _, key := range sortedNames(t.Sources) {
		fmt.Fprintf(w, "  source.%s\n", key)
	}
	fmt.Fprintln(w, "\nBuilds:")
	for _, b := range t.Builds {
		writeInspectBuild(w, b)
	}
}

func writeInspectBuild(w io.Writer, b *template.Build) {
	name := b.Name
	if name == "" {
		name = "<unnamed>"
	}
	fmt.Fprintf(w, "  %s", name)
	if b.Description != "" {
		fmt.Fprintf(w, ": %s", b.Description)
	}
	fmt.Fprintln(w)
	for _, u := range b.Sources {
		fmt.Fprintf(w, "    source %s\n", u.FullName(b))
	}
	for _, p := range b.Provisioners {
		fmt.Fprintf(w, "    provisioner %s%s\n", p.Type, describeMeta(p.Name, p.Only, p.Except))
	}
	if b.ErrorCleanup != nil {
		fmt.Fprintf(w, "    error-cleanup-provisioner %s\n", b.ErrorCleanup.Type)
	}
	for _, chain := range b.PostProcessors {
		for i, pp := range chain {
			lead := "post-processor"
			if i > 0 {
				lead = "  then"
			}
			fmt.Fprintf(w, "    %s %s%s\n", lead, pp.Type, describeMeta(pp.Name, pp.Only, pp.Except))
		}
	}
}

func describeMeta(name string, only, except []string) string {
	var parts []string
	if name != "" {
		parts = append(parts, fmt.Sprintf("%q", name))
	}
	if len(only) > 0 {
		parts = append(parts, "only "+strings.Join(only, ","))
	}
	if len(except) > 0 {
		parts = append(parts, "except "+strings.Join(except, ","))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func showValue(v cty.Value) string {
	switch {
	case v == cty.NilVal || v.IsNull():
		return "null"
	case !v.IsWhollyKnown():
		return "(known at build time)"
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	return string(b)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

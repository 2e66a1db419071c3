package main

import (
	"sort"
	"strings"

	"github.com/imgbuild/imgbuild/internal/template"
)

func sortStrings(s []string) { sort.Strings(s) }

// splitGlobs splits a comma-separated -only/-except value.
func splitGlobs(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// templateOptions are the load options of commands that never contact
// AWS while reading a template.
func templateOptions() template.Options { return template.Options{} }

// templateOptionsWith are load options that resolve data sources with ev.
func templateOptionsWith(ev template.DataEvaluator) template.Options {
	return template.Options{Evaluator: ev}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamplesValidate validates every template in examples/ offline and
// checks that each one is also planned by graph. Templates that need
// variables take them from a *.pkrvars.hcl file beside them if present.
// examples/packer-corpus is validated by TestPackerCorpusValidates, from
// each template's own directory as Packer's users run it.
func TestExamplesValidate(t *testing.T) {
	var templates []string
	err := filepath.WalkDir("../../examples", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "packer-corpus" {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pkr.hcl") {
			templates = append(templates, p)
		}
		return err
	})
	if err != nil || len(templates) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, tpl := range templates {
		t.Run(filepath.ToSlash(strings.TrimPrefix(tpl, "../../examples/")), func(t *testing.T) {
			for _, cmd := range [][]string{{"validate", tpl}, {"graph", "-format", "text", tpl}} {
				var out, errOut bytes.Buffer
				getenv := func(string) string { return "" }
				if code := realMain(cmd, &out, &errOut, getenv); code != 0 {
					t.Fatalf("imgbuild %s: exit %d\n%s%s", strings.Join(cmd, " "), code, out.String(), errOut.String())
				}
			}
		})
	}
}

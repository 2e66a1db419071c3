package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"imgbuild": func() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) },
	})
}

// TestScripts runs the CLI scripts in testdata/script, one behaviour each.
// $EXAMPLES points at the repository's examples directory.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("EXAMPLES", examples)
			// Point AWS at nothing: validate must not need it.
			e.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return nil
		},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

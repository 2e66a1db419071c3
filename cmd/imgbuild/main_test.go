package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

func TestMain(m *testing.M) {
	testscript.Main(removeBinaryAfter{m}, map[string]func(){
		"imgbuild": func() { os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) },
	})
}

// removeBinaryAfter runs the tests, their local clouds sharing
// moto_servers, then removes the binaries they built (testscript.Main
// exits the process itself).
type removeBinaryAfter struct{ m *testing.M }

func (r removeBinaryAfter) Run() int {
	code := testenv.RunWithMotoPool(func() int { return testenv.WithLoopbackEndpoint(r.m.Run) })
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	return code
}

// TestScripts runs the CLI scripts in testdata/script, one behaviour each.
// $EXAMPLES points at the repository's examples directory.
func TestScripts(t *testing.T) {
	t.Parallel()
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("EXAMPLES", examples)
			// Templates are validated as for the local cloud, whose EC2
			// endpoint is on loopback (nothing answers this one).
			e.Setenv("AWS_ENDPOINT_URL", testenv.LoopbackEndpoint)
			// Point AWS at nothing: validate must not need it.
			e.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return nil
		},
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": exitCode},
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// exitCode is the script command "exitcode N program args...": it runs the
// program like exec and fails unless it exits with status N.
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

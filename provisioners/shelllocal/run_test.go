package shelllocal

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

const secret = `it's $HOME s3cr3t`

// provisionLocal prepares c with dir as the template directory and runs it.
func provisionLocal(t *testing.T, c *Config, dir string) (string, error) {
	t.Helper()
	ctx := &check.Context{BaseDir: dir}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	var out bytes.Buffer
	env := &provision.Env{Out: &out, BaseDir: dir, BuildName: "web.amazon-ebs.al2023", BuilderType: "amazon-ebs"}
	err := c.Provision(context.Background(), env)
	return out.String(), err
}

func TestRun(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the scripts are POSIX shell")
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"a.sh": `echo "a $GREETING"`, "b.sh": `echo "b $PWD"`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	withInline := func(lines ...string) Config { var c Config; c.Inline = lines; return c }
	tests := []struct {
		name    string
		c       Config
		env     map[string]string
		want    string
		wantErr string
	}{
		{"command", Config{Command: `echo "$PACKER_BUILD_NAME $PACKER_BUILDER_TYPE"`}, nil, "web.amazon-ebs.al2023 amazon-ebs\n", ""},
		{"inline with env", withInline(`echo "$TRICKY"`), map[string]string{"TRICKY": secret}, secret + "\n", ""},
		{"scripts in order, in the template directory", Config{Source: sourceOf("a.sh", "b.sh")}, map[string]string{"GREETING": "hi"}, "a hi\nRunning local shell script: b.sh\nb " + dir + "\n", ""},
		{"exit status", Config{Command: "exit 4"}, map[string]string{"TOKEN": secret}, "", "script command exited with status 4; valid exit codes are [0]"},
		{"valid_exit_codes", Config{Command: "exit 4", ValidExitCodes: []int{4}}, nil, "", ""},
		{"missing interpreter", Config{Command: "true", ExecuteCommand: []string{"/no/such/shell"}}, nil, "", "script command: start /no/such/shell"},
		{"only_on skips", Config{Command: "echo ran", OnlyOn: []string{otherOS()}}, nil, "Skipping shell-local: only_on [" + otherOS() + "] does not include " + runtime.GOOS, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Env.Env = tt.env
			out, err := provisionLocal(t, &tt.c, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("error %v, want %q without environment values", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tt.want) || strings.Contains(out, "ran\n") {
				t.Errorf("output %q, want it to contain %q", out, tt.want)
			}
		})
	}
}

func sourceOf(scripts ...string) (s script.Source) {
	s.Scripts = scripts
	return s
}

func otherOS() string {
	if runtime.GOOS == "plan9" {
		return "linux"
	}
	return "plan9"
}

func TestTempScriptRemoved(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the scripts are POSIX shell")
	}
	c := Config{Command: `echo "$0"`}
	out, err := provisionLocal(t, &c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if path := lines[len(lines)-1]; !strings.Contains(path, "imgbuild-shell-local-") {
		t.Fatalf("script path %q", path)
	} else if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("temporary script %s left behind: %v", path, err)
	}
}

// TestVarsStayOutOfArguments: {{.Vars}} names a file that exports the
// variables (a command that clears its environment still gets them), the
// values never appear in a process's arguments, and the file is gone
// after the run.
func TestVarsStayOutOfArguments(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the environment file is for POSIX shells")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	env := map[string]string{"TRICKY": secret}
	shown := Config{Command: "true", ExecuteCommand: []string{"/bin/sh", "-c", "echo {{.Vars}}"}}
	shown.Env.Env = env
	out, err := provisionLocal(t, &shown, t.TempDir())
	if err != nil || !strings.Contains(out, "sh "+tmp+"/imgbuild-env-") || strings.Contains(out, "s3cr3t") {
		t.Errorf("{{.Vars}} rendered as %q (%v), want sh <environment file> and no value", out, err)
	}
	cleared := Config{Command: `echo "[$TRICKY] [$PACKER_BUILD_NAME]"`,
		ExecuteCommand: []string{"/usr/bin/env", "-i", "/bin/sh", "-c", "{{.Vars}} {{.Script}}"}}
	cleared.Env.Env = env
	out, err = provisionLocal(t, &cleared, t.TempDir())
	if want := "[" + secret + "] [web.amazon-ebs.al2023]\n"; err != nil || !strings.Contains(out, want) {
		t.Errorf("output %q (%v), want %q from the environment file alone", out, err, want)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "imgbuild-env-*")); len(left) > 0 {
		t.Errorf("environment files left behind: %v", left)
	}
}

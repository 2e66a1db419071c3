package shell

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

// secret is an environment value that must never appear in an error.
const secret = `it's $HOME "q" s3cr3t`

// writeScripts writes local scripts named a.sh, b.sh, ... with the given
// bodies and returns their names relative to the returned directory.
func writeScripts(t *testing.T, bodies ...string) (dir string, names []string) {
	t.Helper()
	dir = t.TempDir()
	for i, body := range bodies {
		name := string(rune('a'+i)) + ".sh"
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return dir, names
}

// runShell prepares c for the fake instance and runs it.
func runShell(t *testing.T, f *fakeComm, c *Config, baseDir string) (string, error) {
	t.Helper()
	c.RemoteFolder = f.root
	ctx := &check.Context{BaseDir: baseDir}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	var out bytes.Buffer
	env := &provision.Env{Comm: f, Out: &out, BaseDir: baseDir, BuildName: "web.amazon-ebs.al2023", BuilderType: "amazon-ebs"}
	err := c.Provision(context.Background(), env)
	return out.String(), err
}

func TestProvisionRuns(t *testing.T) {
	dir, scripts := writeScripts(t, `echo "first $GREETING"`, `echo "second $PACKER_BUILD_NAME $PACKER_BUILDER_TYPE"`, `printf '%s\n' "$TRICKY"`)
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"inline", func() Config {
			var c Config
			c.Inline = []string{"echo one $GREETING", "echo two"}
			c.Env.Env = map[string]string{"GREETING": "hello"}
			return c
		}(), "one hello\ntwo\n"},
		{"scripts in order", func() Config {
			var c Config
			c.Scripts = scripts[:2]
			c.EnvironmentVars = []string{"GREETING=hi=there"}
			return c
		}(), "first hi=there\n" + "Provisioning with shell script: b.sh\n" + "second web.amazon-ebs.al2023 amazon-ebs\n"},
		{"quoting keeps values literal", func() Config {
			var c Config
			c.Script = scripts[2]
			c.Env.Env = map[string]string{"TRICKY": secret}
			return c
		}(), secret + "\n"},
		{"env var file", func() Config {
			var c Config
			c.Script = scripts[2]
			c.UseEnvVarFile = true
			c.Env.Env = map[string]string{"TRICKY": secret}
			return c
		}(), secret + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			out, err := runShell(t, f, &tt.c, dir)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output %q does not contain %q", out, tt.want)
			}
			if left, _ := os.ReadDir(f.root); len(left) != 0 {
				t.Errorf("files left on the instance: %v", left)
			}
		})
	}
}

// TestExecuteCommand checks the placeholders of a custom execute_command:
// {{.Vars}} runs the rest of the command with the environment file, and
// the command holds no value.
func TestExecuteCommand(t *testing.T) {
	f := newFake(t)
	var c Config
	c.Inline = []string{`printf '%s\n' "$TRICKY"`}
	c.ExecuteCommand = "{{.Vars}}sh {{.Path}}"
	c.Env.Env = map[string]string{"TRICKY": secret}
	out, err := runShell(t, f, &c, "")
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^sh ` + regexp.QuoteMeta(f.root) + `/imgbuild-env-[0-9a-f]{16}\.sh sh ` +
		regexp.QuoteMeta(c.RemotePath) + `$`)
	if !want.MatchString(f.commands[0]) {
		t.Errorf("command %q does not match %s", f.commands[0], want)
	}
	if !strings.Contains(out, secret+"\n") {
		t.Errorf("the script did not see TRICKY: output %q", out)
	}
	if mode := f.uploads[c.RemotePath]; mode != 0o755 {
		t.Errorf("script uploaded with mode %v, want 0755", mode)
	}
	for p, mode := range f.uploads {
		if strings.Contains(p, EnvFilePrefix) && mode != 0o600 {
			t.Errorf("environment file uploaded with mode %v, want 0600", mode)
		}
	}
}

// TestEnvironmentOffCommandLine runs a script with a tricky value under
// the execute_command forms Packer templates use: the script sees every
// variable, no command sent to the instance holds a value, and the
// environment file is gone afterwards.
func TestEnvironmentOffCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		exec    string
		envFile bool
		format  string
	}{
		{"default", "", false, ""},
		{"use_env_var_file default", "", true, ""},
		{"vars inside sh -c quotes", "chmod +x {{.Path}}; sh -c '{{ .Vars }} {{ .Path }}'", false, ""},
		{"vars in a pipeline", "chmod +x {{.Path}}; echo pw | {{.Vars}}sh {{.Path}}", false, ""},
		{"sourced file", ". {{.EnvVarFile}} && sh {{.Path}}", false, ""},
		{"file with one-line format", "", true, "%s='%s' "},
		{"vars with export format", "", false, "export %s='%s'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			var c Config
			c.Inline = []string{`printf 'tricky=%s|name=%s|plain=%s\n' "$TRICKY" "$PACKER_BUILD_NAME" "$PLAIN"`}
			c.ExecuteCommand, c.UseEnvVarFile, c.EnvVarFormat = tt.exec, tt.envFile, tt.format
			c.EnvironmentVars = []string{"PLAIN=p1ainvalue"}
			c.Env.Env = map[string]string{"TRICKY": secret}
			out, err := runShell(t, f, &c, "")
			if err != nil {
				t.Fatal(err)
			}
			if want := "tricky=" + secret + "|name=web.amazon-ebs.al2023|plain=p1ainvalue\n"; !strings.Contains(out, want) {
				t.Errorf("output %q, want %q", out, want)
			}
			for _, cmd := range f.commands {
				if strings.Contains(cmd, "s3cr3t") || strings.Contains(cmd, "p1ainvalue") || strings.Contains(cmd, "web.amazon-ebs") {
					t.Errorf("a command sent to the instance holds an environment value: %s", cmd)
				}
			}
			if left, _ := os.ReadDir(f.root); len(left) != 0 {
				t.Errorf("files left on the instance: %v", left)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name  string
		valid []int
		want  string
	}{
		{"default rejects 3", nil, "script inline script exited with status 3; valid exit codes are [0]"},
		{"valid_exit_codes accepts 3", []int{0, 3}, ""},
		{"valid_exit_codes without 0", []int{1}, "exited with status 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Inline = []string{"echo ran", "exit 3", "echo not reached"}
			c.ValidExitCodes = tt.valid
			c.Env.Env = map[string]string{"TOKEN": secret}
			out, err := runShell(t, newFake(t), &c, "")
			if strings.Contains(out, "not reached") {
				t.Error("inline script did not stop at the failing line (shebang -e)")
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows an environment value: %v", err)
			}
		})
	}
}

func TestExpectDisconnect(t *testing.T) {
	dir, scripts := writeScripts(t, "echo rebooting; touch disconnect", "echo after reboot")
	tests := []struct {
		name    string
		expect  bool
		wantErr string
	}{
		{"expected", true, ""},
		{"unexpected", false, "script a.sh: connection lost (set expect_disconnect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			var c Config
			c.Scripts = slices.Clone(scripts)
			c.ExpectDisconnect = tt.expect
			out, err := runShell(t, f, &c, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.reconnects != 1 || !strings.Contains(out, "after reboot") {
				t.Errorf("reconnects = %d, output %q; want one reconnect, then the second script", f.reconnects, out)
			}
		})
	}
}

func TestSkipClean(t *testing.T) {
	dir, scripts := writeScripts(t, "true", "true")
	for _, skip := range []bool{false, true} {
		f := newFake(t)
		var c Config
		c.Scripts = slices.Clone(scripts)
		c.SkipClean = skip
		if _, err := runShell(t, f, &c, dir); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{c.RemotePath, strings.TrimSuffix(c.RemotePath, ".sh") + "-1.sh"} {
			_, err := os.Stat(p)
			if exists := err == nil; exists != skip {
				t.Errorf("skip_clean = %t: %s exists = %t", skip, p, exists)
			}
		}
		// The environment file holds the values: it never stays.
		if envFiles, _ := filepath.Glob(filepath.Join(f.root, EnvFilePrefix+"*")); len(envFiles) != 0 {
			t.Errorf("skip_clean = %t: environment file left: %v", skip, envFiles)
		}
	}
}

func TestStartRetry(t *testing.T) {
	script.RetryDelay = time.Millisecond
	t.Cleanup(func() { script.RetryDelay = 2 * time.Second })
	tests := []struct {
		name    string
		fails   int
		timeout string
		wantErr string
	}{
		{"recovers", 2, "1m", ""},
		{"gives up", 1000, "20ms", "upload environment file: gave up after start_retry_timeout 20ms: connection lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.failUploads = tt.fails
			var c Config
			c.Inline = []string{"echo started"}
			c.StartRetryTimeout = tt.timeout
			out, err := runShell(t, f, &c, "")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out, "started") || f.reconnects != tt.fails {
				t.Errorf("err %v, output %q, reconnects %d; want success after %d reconnects", err, out, f.reconnects, tt.fails)
			}
			// Each retry is said, with its reason, attempt and how long it goes on.
			for i := 1; i <= tt.fails; i++ {
				want := fmt.Sprintf("upload environment file failed (attempt %d): connection lost; retrying in", i)
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(out, "more (start_retry_timeout)") {
				t.Errorf("retry lines do not say how long they go on:\n%s", out)
			}
		})
	}
}

func TestNoCommunicator(t *testing.T) {
	var c Config
	c.Inline = []string{"true"}
	err := c.Provision(context.Background(), &provision.Env{})
	if err == nil || !strings.Contains(err.Error(), `communicator = "none"`) {
		t.Errorf("error %v, want one about the missing communicator", err)
	}
}

package powershell

import (
	"github.com/imgbuild/imgbuild/internal/provision/provisiontest"

	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// secret is an environment value that must stay off command lines and
// out of errors.
const secret = "it's $HOME \"q\" `tick` s3cr3t"

// Shapes of the default remote paths.
var (
	envPathRE    = regexp.MustCompile(`^c:/Windows/Temp/imgbuild-ps-env-vars-[0-9a-f]{16}\.ps1$`)
	scriptPathRE = regexp.MustCompile(`^c:/Windows/Temp/script-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.ps1$`)
)

// writeScripts writes local scripts a.ps1, b.ps1, ... with the given
// bodies and returns their names relative to the returned directory.
func writeScripts(t *testing.T, bodies ...string) (dir string, names []string) {
	t.Helper()
	dir = t.TempDir()
	for i, body := range bodies {
		name := string(rune('a'+i)) + ".ps1"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return dir, names
}

// runPS prepares c and runs it on f.
func runPS(t *testing.T, f *provisiontest.Comm, c *Config, baseDir string) (string, error) {
	t.Helper()
	ctx := &check.Context{BaseDir: baseDir}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	var out bytes.Buffer
	env := &provision.Env{Comm: f, Out: &out, BaseDir: baseDir, BuildName: "win.amazon-ebs.w2022", BuilderType: "amazon-ebs"}
	err := c.Provision(context.Background(), env)
	return out.String(), err
}

// TestCommandRendering checks the exact command sent for each form of
// execute_command; {ENV} and {PATH} stand for the uploaded environment
// script and script.
func TestCommandRendering(t *testing.T) {
	const pre = `"& { if (Test-Path variable:global:ProgressPreference){set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};. {ENV}; `
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(*Config) {}, `powershell -executionpolicy bypass ` + pre + `&'{PATH}'; exit $LastExitCode }"`},
		{"execution policy", func(c *Config) { c.ExecutionPolicy = "RemoteSigned" }, `powershell -executionpolicy remotesigned ` + pre + `&'{PATH}'; exit $LastExitCode }"`},
		{"execution policy none", func(c *Config) { c.ExecutionPolicy = "none" }, `powershell ` + pre + `&'{PATH}'; exit $LastExitCode }"`},
		{"pwsh", func(c *Config) { c.UsePwsh = true }, `pwsh -executionpolicy bypass -command ` + pre + `&'{PATH}'; exit $LastExitCode }"`},
		{"debug mode", func(c *Config) { c.DebugMode = 1 }, `powershell -executionpolicy bypass ` + pre + `Set-PSDebug -Trace 1; &'{PATH}'; exit $LastExitCode }"`},
		{"custom", func(c *Config) {
			c.ExecuteCommand = `powershell -ExecutionPolicy {{.ExecutionPolicy}} -Command ". {{.Vars}}; & {{.Path}}"`
		},
			`powershell -ExecutionPolicy bypass -Command ". {ENV}; & {PATH}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := provisiontest.NewComm()
			var c Config
			c.Inline = []string{"Write-Output hi"}
			tt.edit(&c)
			if _, err := runPS(t, f, &c, ""); err != nil {
				t.Fatal(err)
			}
			if len(f.Uploads) != 2 || !envPathRE.MatchString(f.Uploads[0]) || !scriptPathRE.MatchString(f.Uploads[1]) {
				t.Fatalf("uploads %v, want the environment script then the script at their default paths", f.Uploads)
			}
			want := strings.NewReplacer("{ENV}", f.Uploads[0], "{PATH}", f.Uploads[1]).Replace(tt.want)
			if len(f.Commands) != 2 || f.Commands[0] != want {
				t.Fatalf("commands:\n%s\nwant first:\n%s", strings.Join(f.Commands, "\n"), want)
			}
			wantRemove := `powershell -NoProfile -ExecutionPolicy Bypass -Command "Remove-Item -Force -ErrorAction SilentlyContinue -LiteralPath '` + f.Uploads[0] + `'"`
			if f.Commands[1] != wantRemove {
				t.Errorf("last command %s, want %s", f.Commands[1], wantRemove)
			}
		})
	}
}

// TestEnvFile checks the environment script: every variable, sorted, env
// overriding environment_vars, values escaped so PowerShell reads them
// literally; and no value on any command line.
func TestEnvFile(t *testing.T) {
	f := provisiontest.NewComm()
	var c Config
	c.Inline = []string{"Write-Output $env:TRICKY"}
	c.EnvironmentVars = []string{"PLAIN=p1ain=value", "OVERRIDDEN=old"}
	c.Env.Env = map[string]string{"TRICKY": secret, "OVERRIDDEN": "new", "ProgramFiles(x86)": "}`odd", "QUOTES": "\u201cq\u201d"}
	if _, err := runPS(t, f, &c, ""); err != nil {
		t.Fatal(err)
	}
	got := string(f.Files[f.Uploads[0]])
	want := "\uFEFF" +
		`$env:OVERRIDDEN="new"` + "\n" +
		`$env:PACKER_BUILDER_TYPE="amazon-ebs"` + "\n" +
		`$env:PACKER_BUILD_NAME="win.amazon-ebs.w2022"` + "\n" +
		`$env:PLAIN="p1ain=value"` + "\n" +
		"${env:ProgramFiles(x86)}=\"}``odd\"\n" +
		"$env:QUOTES=\"`\u201cq`\u201d\"\n" +
		"$env:TRICKY=\"it's `$HOME `\"q`\" ``tick`` s3cr3t\"\n"
	if got != want {
		t.Errorf("environment script:\n%q\nwant\n%q", got, want)
	}
	for _, cmd := range f.Commands {
		if strings.Contains(cmd, "s3cr3t") || strings.Contains(cmd, "p1ain") {
			t.Errorf("a command holds an environment value: %s", cmd)
		}
	}
	if ascii := EnvFileBody(nil); len(ascii) != 0 {
		t.Errorf("empty environment script = %q", ascii)
	}
}

// TestScriptsInOrder runs script files in order, each at its own remote
// path, and checks inline commands are joined into one script.
func TestScriptsInOrder(t *testing.T) {
	dir, names := writeScripts(t, "Write-Output first\r\n", "Write-Output second\n")
	tests := []struct {
		name       string
		edit       func(*Config)
		wantBodies []string
		wantPaths  func(t *testing.T, paths []string)
	}{
		{"inline", func(c *Config) { c.Inline = []string{"$a = 1", "Write-Output $a"} },
			[]string{"$a = 1\nWrite-Output $a\n"}, func(t *testing.T, paths []string) {}},
		{"scripts", func(c *Config) { c.Scripts = slices.Clone(names) },
			[]string{"Write-Output first\r\n", "Write-Output second\n"},
			func(t *testing.T, paths []string) {
				if paths[0] == paths[1] {
					t.Errorf("both scripts uploaded to %s", paths[0])
				}
			}},
		{"remote_path", func(c *Config) { c.Scripts, c.RemotePath = slices.Clone(names), "C:/scripts/run.ps1" },
			[]string{"Write-Output first\r\n", "Write-Output second\n"},
			func(t *testing.T, paths []string) {
				if !slices.Equal(paths, []string{"C:/scripts/run.ps1", "C:/scripts/run.ps1"}) {
					t.Errorf("paths %v, want remote_path for both", paths)
				}
			}},
		{"remote_path directory", func(c *Config) { c.Scripts, c.RemotePath = slices.Clone(names), `C:\scripts\` },
			[]string{"Write-Output first\r\n", "Write-Output second\n"},
			func(t *testing.T, paths []string) {
				if !slices.Equal(paths, []string{`C:\scripts\a.ps1`, `C:\scripts\b.ps1`}) {
					t.Errorf("paths %v, want each script under its name", paths)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := provisiontest.NewComm()
			var c Config
			tt.edit(&c)
			out, err := runPS(t, f, &c, dir)
			if err != nil {
				t.Fatal(err)
			}
			paths := f.Uploads[1:]
			bodies := f.Bodies[1:]
			for i, p := range paths {
				if !strings.Contains(f.Commands[i], "&'"+p+"'") {
					t.Errorf("command %d %s does not run %s", i, f.Commands[i], p)
				}
			}
			if !slices.Equal(bodies, tt.wantBodies) {
				t.Errorf("uploaded scripts %q, want %q", bodies, tt.wantBodies)
			}
			if len(f.Commands) != len(paths)+1 {
				t.Errorf("commands %q, want one a script and the removal", f.Commands)
			}
			tt.wantPaths(t, paths)
			if c.Scripts != nil && !strings.Contains(out, "Provisioning with powershell script: a.ps1\n") {
				t.Errorf("output %q does not name the scripts", out)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir, names := writeScripts(t, "exit 3", "Write-Output second")
	tests := []struct {
		name  string
		valid []int
		want  string
	}{
		{"default rejects 3", nil, "script a.ps1 exited with status 3; valid exit codes are [0]"},
		{"valid_exit_codes accepts 3", []int{0, 3}, ""},
		{"valid_exit_codes without 0", []int{3}, "script b.ps1 exited with status 0; valid exit codes are [3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := provisiontest.NewComm()
			f.Answer = func(cmd string, _ io.Writer) (int, error) {
				if strings.Contains(cmd, "&'"+f.Uploads[1]+"'") {
					return 3, nil
				}
				return 0, nil
			}
			var c Config
			c.Scripts = slices.Clone(names)
			c.ValidExitCodes = tt.valid
			c.Env.Env = map[string]string{"TOKEN": secret}
			_, err := runPS(t, f, &c, dir)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if tt.valid == nil && len(f.Uploads) != 2 {
				t.Errorf("uploads %v: the second script was uploaded after the first failed", f.Uploads)
			}
			// The environment script is removed after a failure too.
			if last := f.Commands[len(f.Commands)-1]; !strings.Contains(last, "Remove-Item") || !strings.Contains(last, f.Uploads[0]) {
				t.Errorf("last command %s does not remove the environment script", last)
			}
		})
	}
}

func TestUploadRetry(t *testing.T) {
	synctest.Test(t, testUploadRetry)
}

func testUploadRetry(t *testing.T) {
	f := provisiontest.NewComm()
	f.FailUploads = 2
	var c Config
	c.Inline = []string{"Write-Output hi"}
	out, err := runPS(t, f, &c, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Reconnects != 2 || len(f.Commands) != 2 {
		t.Errorf("reconnects %d, commands %q; want 2 reconnects, then the script and the removal", f.Reconnects, f.Commands)
	}
	for i := 1; i <= 2; i++ {
		if want := fmt.Sprintf("upload environment script failed (attempt %d): connection lost; retrying", i); !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestRunDisconnect: a connection lost while a script runs fails the
// provisioner with the script's name; the removal reconnects first.
func TestRunDisconnect(t *testing.T) {
	f := provisiontest.NewComm()
	f.Answer = func(cmd string, _ io.Writer) (int, error) {
		if strings.Contains(cmd, "Remove-Item") {
			return 0, nil
		}
		return 0, provisiontest.ErrDisconnected
	}
	var c Config
	c.Inline = []string{"Write-Output hi"}
	_, err := runPS(t, f, &c, "")
	if err == nil || err.Error() != "script inline script: connection lost" {
		t.Fatalf("error %v, want the script's disconnect", err)
	}
	if f.Reconnects != 1 || len(f.Commands) != 2 {
		t.Errorf("reconnects %d, commands %q; want a reconnect before the removal", f.Reconnects, f.Commands)
	}
}

func TestNoCommunicator(t *testing.T) {
	var c Config
	c.Inline = []string{"x"}
	err := c.Provision(context.Background(), &provision.Env{})
	if err == nil || !strings.Contains(err.Error(), `communicator = "none"`) {
		t.Errorf("error %v, want one about the missing communicator", err)
	}
}

package windowsshell

import (
	"github.com/imgbuild/imgbuild/internal/provision/provisiontest"

	"bytes"
	"context"
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

var scriptPathRE = regexp.MustCompile(`^c:/Windows/Temp/script-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.bat$`)

// writeScripts writes local scripts a.bat, b.bat, ... with the given
// bodies and returns their names relative to the returned directory.
func writeScripts(t *testing.T, bodies ...string) (dir string, names []string) {
	t.Helper()
	dir = t.TempDir()
	for i, body := range bodies {
		name := string(rune('a'+i)) + ".bat"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return dir, names
}

// runShell prepares c and runs it on f.
func runShell(t *testing.T, f *provisiontest.Comm, c *Config, baseDir string) (string, error) {
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

// TestCommandRendering checks the exact command sent; {PATH} stands for
// the uploaded script.
func TestCommandRendering(t *testing.T) {
	const vars = `set "GREETING=hello world" && set "PACKER_BUILDER_TYPE=amazon-ebs" && set "PACKER_BUILD_NAME=win.amazon-ebs.w2022" && `
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(*Config) {}, vars + `"{PATH}"`},
		{"custom execute_command", func(c *Config) { c.ExecuteCommand = `cmd /v /c "{{.Vars}}call {{.Path}}"` }, `cmd /v /c "` + vars + `call {PATH}"`},
		{"custom env_var_format", func(c *Config) { c.EnvVarFormat = "set %s=%s&" },
			`set GREETING=hello world&set PACKER_BUILDER_TYPE=amazon-ebs&set PACKER_BUILD_NAME=win.amazon-ebs.w2022&"{PATH}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := provisiontest.NewComm()
			var c Config
			c.Inline = []string{"@echo off", "echo %GREETING%"}
			c.EnvironmentVars = []string{"GREETING=hello world"}
			tt.edit(&c)
			out, err := runShell(t, f, &c, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Uploads) != 1 || !scriptPathRE.MatchString(f.Uploads[0]) {
				t.Fatalf("uploads %v, want the script at its default path", f.Uploads)
			}
			if got := f.Bodies[0]; got != "@echo off\r\necho %GREETING%\r\n" {
				t.Errorf("inline script %q, want the commands joined with CRLF", got)
			}
			want := strings.ReplaceAll(tt.want, "{PATH}", f.Uploads[0])
			if !slices.Equal(f.Commands, []string{want}) {
				t.Errorf("commands %q, want %q", f.Commands, want)
			}
			if !strings.Contains(out, "Provisioning with windows-shell script: inline script\n") {
				t.Errorf("output %q", out)
			}
		})
	}
}

func TestScriptsInOrder(t *testing.T) {
	dir, names := writeScripts(t, "echo first\r\n", "echo second\r\n")
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, paths []string)
	}{
		{"default paths", "", func(t *testing.T, paths []string) {
			if !scriptPathRE.MatchString(paths[0]) || !scriptPathRE.MatchString(paths[1]) || paths[0] == paths[1] {
				t.Errorf("paths %v, want two different default paths", paths)
			}
		}},
		{"remote_path", "C:/build/run.bat", func(t *testing.T, paths []string) {
			if !slices.Equal(paths, []string{"C:/build/run.bat", "C:/build/run.bat"}) {
				t.Errorf("paths %v", paths)
			}
		}},
		{"remote_path directory", "C:/build/", func(t *testing.T, paths []string) {
			if !slices.Equal(paths, []string{"C:/build/a.bat", "C:/build/b.bat"}) {
				t.Errorf("paths %v", paths)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := provisiontest.NewComm()
			var c Config
			c.Scripts = slices.Clone(names)
			c.RemotePath = tt.path
			if _, err := runShell(t, f, &c, dir); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.Bodies, []string{"echo first\r\n", "echo second\r\n"}) || len(f.Commands) != 2 {
				t.Fatalf("uploads %q, commands %q", f.Bodies, f.Commands)
			}
			for i, p := range f.Uploads {
				if !strings.HasSuffix(f.Commands[i], `"`+p+`"`) {
					t.Errorf("command %s does not run %s", f.Commands[i], p)
				}
			}
			tt.check(t, f.Uploads)
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir, names := writeScripts(t, "exit /b 3", "echo second")
	tests := []struct {
		name  string
		valid []int
		want  string
	}{
		{"default rejects 3", nil, "script a.bat exited with status 3; valid exit codes are [0]"},
		{"valid_exit_codes accepts 3", []int{0, 3}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := provisiontest.NewComm()
			f.Answer = func(cmd string, _ io.Writer) (int, error) {
				if len(f.Uploads) == 1 {
					return 3, nil
				}
				return 0, nil
			}
			var c Config
			c.Scripts = slices.Clone(names)
			c.ValidExitCodes = tt.valid
			_, err := runShell(t, f, &c, dir)
			if tt.want == "" {
				if err != nil || len(f.Commands) != 2 {
					t.Fatalf("error %v, commands %q", err, f.Commands)
				}
				return
			}
			if err == nil || err.Error() != tt.want || len(f.Commands) != 1 {
				t.Fatalf("error %v, commands %q; want %q and no second script", err, f.Commands, tt.want)
			}
		})
	}
}

// TestUnquotableValue: a value cmd cannot quote fails before anything
// runs, naming the variable and not the value.
func TestUnquotableValue(t *testing.T) {
	f := provisiontest.NewComm()
	var c Config
	c.Inline = []string{"echo %TOKEN%"}
	c.Prepare(&check.Context{})
	c.Env.Env = map[string]string{"TOKEN": `s3cr3t" & del x`} // as if unknown at validate time
	err := c.Provision(context.Background(), &provision.Env{Comm: f, Out: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "value of TOKEN holds a double quote") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %v", err)
	}
	if len(f.Uploads)+len(f.Commands) != 0 {
		t.Errorf("the instance was changed: uploads %v, commands %q", f.Uploads, f.Commands)
	}
}

func TestUploadRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := provisiontest.NewComm()
		f.FailUploads = 2
		var c Config
		c.Inline = []string{"echo hi"}
		out, err := runShell(t, f, &c, "")
		if err != nil {
			t.Fatal(err)
		}
		if f.Reconnects != 2 || len(f.Commands) != 1 || !strings.Contains(out, "upload script inline script failed (attempt 2): connection lost; retrying") {
			t.Errorf("reconnects %d, commands %q, output %q", f.Reconnects, f.Commands, out)
		}
	})
}

func TestNoCommunicator(t *testing.T) {
	var c Config
	c.Inline = []string{"x"}
	err := c.Provision(context.Background(), &provision.Env{})
	if err == nil || !strings.Contains(err.Error(), `communicator = "none"`) {
		t.Errorf("error %v, want one about the missing communicator", err)
	}
}

package powershell

import (
	"github.com/imgbuild/imgbuild/internal/provision/provisiontest"

	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const password = "pa'ss $w0rd"

// TestElevatedWrapperGolden pins the whole wrapper: the tool-script head
// the simulated guest reads and the PowerShell a real host runs.
func TestElevatedWrapperGolden(t *testing.T) {
	task := elevatedTask{
		Name: "imgbuild-elevated-0123456789abcdef", User: `EC2AMAZ\Admin`, Password: password,
		Command: `powershell -executionpolicy bypass "& { &'c:/Windows/Temp/s.ps1'; exit $LastExitCode }"`,
		Log:     `C:\Windows\Temp\imgbuild-elevated-0123456789abcdef.out`,
	}
	got := task.wrapper()
	golden := filepath.Join("testdata", "elevated.ps1")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("wrapper differs from %s (run go test -update to accept):\n%s", golden, got)
	}
}

// TestElevated runs scripts as elevated_user: each script's rendered
// elevated_execute_command goes into its own wrapper, which is what
// runs; the password is in the wrapper only.
func TestElevated(t *testing.T) {
	dir, names := writeScripts(t, "Write-Output one", "Write-Output two")
	f := provisiontest.NewComm()
	f.Answer = func(cmd string, stdout io.Writer) (int, error) {
		if strings.Contains(cmd, "-File ") {
			io.WriteString(stdout, "task output\n")
			if w := f.Uploaded("c:/Windows/Temp/imgbuild-elevated-"); len(w) == 2 && strings.Contains(cmd, w[1]) {
				return 7, nil
			}
		}
		return 0, nil
	}
	var c Config
	c.Scripts = names
	c.ElevatedUser, c.ElevatedPassword = "Administrator", password
	c.ElevatedExecuteCommand = "powershell -file {{.Path}} -vars {{.Vars}} -policy {{.ExecutionPolicy}}"
	c.ValidExitCodes = []int{0}
	out, err := runPS(t, f, &c, dir)
	if err == nil || err.Error() != "script b.ps1 exited with status 7; valid exit codes are [0]" {
		t.Fatalf("error %v, want script b.ps1's exit status 7", err)
	}

	wrappers := f.Uploaded("c:/Windows/Temp/imgbuild-elevated-")
	scripts := f.Uploaded("c:/Windows/Temp/script-")
	if len(wrappers) != 2 || len(scripts) != 2 {
		t.Fatalf("uploads %v, want two scripts and two wrappers", f.Uploads)
	}
	wrapperRE := regexp.MustCompile(`^c:/Windows/Temp/imgbuild-elevated-([0-9a-f]{16})\.ps1$`)
	for i, w := range wrappers {
		m := wrapperRE.FindStringSubmatch(w)
		if m == nil {
			t.Fatalf("wrapper path %s", w)
		}
		if want := "powershell -NoProfile -ExecutionPolicy Bypass -File " + w; f.Commands[i] != want {
			t.Errorf("command %d = %s, want %s", i, f.Commands[i], want)
		}
		head := "# imgbuild elevated\n" +
			"$name = 'imgbuild-elevated-" + m[1] + "'\n" +
			"$user = 'Administrator'\n" +
			"$password = 'pa''ss $w0rd'\n" +
			"$command = 'powershell -file " + scripts[i] + " -vars " + f.Uploads[0] + " -policy bypass'\n" +
			`$log = 'C:\Windows\Temp\imgbuild-elevated-` + m[1] + ".out'\n"
		body := string(f.Files[w])
		if !strings.HasPrefix(body, head) {
			t.Errorf("wrapper %s starts\n%s\nwant\n%s", w, body[:min(len(body), len(head))], head)
		}
		for _, real := range []string{
			"New-Object -ComObject 'Schedule.Service'",
			"$folder.RegisterTaskDefinition($name, $task, 6, $user, $password, $logon, $null)",
			"$action.Arguments = \"/c $command > `\"$log`\" 2>&1\"",
			"$task.Principal.RunLevel = 1",
			"exit $result",
		} {
			if !strings.Contains(body, real) {
				t.Errorf("wrapper %s lacks %s", w, real)
			}
		}
	}
	if !strings.Contains(out, "task output\n") {
		t.Errorf("output %q lacks the task's output", out)
	}
	last := f.Commands[len(f.Commands)-1]
	for _, p := range append([]string{f.Uploads[0]}, wrappers...) {
		if !strings.Contains(last, "'"+p+"'") {
			t.Errorf("removal %s does not remove %s", last, p)
		}
	}
	for _, s := range append(f.Commands, out, err.Error()) {
		if strings.Contains(s, "w0rd") {
			t.Errorf("the password is in %q", s)
		}
	}
}

// TestElevatedServiceAccount: an empty password is written as such, and
// the wrapper switches to a service-account logon for it.
func TestElevatedServiceAccount(t *testing.T) {
	f := provisiontest.NewComm()
	var c Config
	c.Inline = []string{"whoami"}
	c.ElevatedUser = "SYSTEM"
	if _, err := runPS(t, f, &c, ""); err != nil {
		t.Fatal(err)
	}
	body := string(f.Files[f.Uploaded("c:/Windows/Temp/imgbuild-elevated-")[0]])
	if !strings.Contains(body, "\n$user = 'SYSTEM'\n$password = ''\n") ||
		!strings.Contains(body, "if ($password -eq '') { $logon = 5; $password = $null }") {
		t.Errorf("wrapper:\n%s", body)
	}
	// The default elevated_execute_command is execute_command's.
	if !strings.Contains(body, "$command = 'powershell -executionpolicy bypass \"& {") {
		t.Errorf("wrapper command is not the default elevated_execute_command:\n%s", body)
	}
}

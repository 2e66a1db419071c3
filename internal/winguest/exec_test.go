package winguest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
)

func TestToolOperations(t *testing.T) {
	lower := t.TempDir()
	m := newMachine(t, func(o *Options) { o.Lowers = []string{lower} })
	writeDisk(t, lower, `C:\image\base.txt`, "from the image")
	writeDisk(t, lower, `C:\image\shadowed.txt`, "old")
	writeDisk(t, m.opts.Disk, `C:\image\shadowed.txt`, "new!")

	// Upload: echo chunks, then restore.
	content := []byte("hello\x00world, binary \xff content")
	b64 := base64.StdEncoding.EncodeToString(content)
	tmp := `C:\Windows\Temp\` + winrm.UploadTempPrefix + "0123.b64"
	for _, chunk := range []string{b64[:8], b64[8:]} {
		if r := exec(t, m, admin, `echo `+chunk+` >> "`+tmp+`"`); r.code != 0 {
			t.Fatalf("echo chunk: %+v", r)
		}
	}
	if r := exec(t, m, admin, tool(winrm.OpRestore, winrm.Var{"src", tmp}, winrm.Var{"dst", `C:/image/sub/up.bin`})); r.code != 0 {
		t.Fatalf("restore: %+v", r)
	}
	if got, _ := os.ReadFile(filepath.Join(m.opts.Disk, "c", "image", "sub", "up.bin")); string(got) != string(content) {
		t.Errorf("restored %q, want %q", got, content)
	}
	if _, err := os.Stat(filepath.Join(m.opts.Disk, "c", "Windows", "Temp", winrm.UploadTempPrefix+"0123.b64")); !os.IsNotExist(err) {
		t.Errorf("staging file not deleted: %v", err)
	}

	tests := []struct {
		name   string
		line   string
		code   int
		stdout string
		stderr string
	}{
		{"download from lower", tool(winrm.OpDownload, winrm.Var{"path", `C:\image\base.txt`}), 0,
			base64.StdEncoding.EncodeToString([]byte("from the image")) + "\r\n", ""},
		{"download upper over lower", tool(winrm.OpDownload, winrm.Var{"path", `$env:SystemDrive\image\shadowed.txt`}), 0,
			base64.StdEncoding.EncodeToString([]byte("new!")) + "\r\n", ""},
		{"download missing", tool(winrm.OpDownload, winrm.Var{"path", `C:\nope`}), 1, "", "cannot download C:\\nope: no such file\r\n"},
		{"download directory", tool(winrm.OpDownload, winrm.Var{"path", `C:\image`}), 1, "", "cannot download C:\\image: it is a directory\r\n"},
		{"mkdir", tool(winrm.OpMkdir, winrm.Var{"path", `C:\image\empty\deeper`}), 0, "", ""},
		{"mkdir over a file", tool(winrm.OpMkdir, winrm.Var{"path", `C:\image\base.txt`}), 1, "", "cannot create directory C:\\image\\base.txt: a file has that name\r\n"},
		{"list merged layers", tool(winrm.OpList, winrm.Var{"path", `C:\image\`}), 0,
			"f 14 base.txt\r\nd empty\r\nd empty\\deeper\r\nf 4 shadowed.txt\r\nd sub\r\nf " + strconv.Itoa(len(content)) + " sub\\up.bin\r\n", ""},
		{"list a file", tool(winrm.OpList, winrm.Var{"path", `C:\image\base.txt`}), 1, "", "cannot list C:\\image\\base.txt: not a directory\r\n"},
		{"restore missing source", tool(winrm.OpRestore, winrm.Var{"src", tmp}, winrm.Var{"dst", `C:\x`}), 1, "",
			"cannot write C:\\x: the uploaded data " + tmp + " is missing\r\n"},
		{"restore onto directory", tool(winrm.OpRestore, winrm.Var{"src", ""}, winrm.Var{"dst", `C:\image`}), 1, "", "cannot write C:\\image: it is a directory\r\n"},
		{"restore empty", tool(winrm.OpRestore, winrm.Var{"src", ""}, winrm.Var{"dst", `C:\empty.txt`}), 0, "", ""},
		{"registry check", tool(winrm.OpRegistryCheck, winrm.Var{"keys", `HKLM:\SOFTWARE\A;HKLM:\SOFTWARE\B`}), 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exec(t, m, admin, tt.line)
			if r.code != tt.code || r.stdout != tt.stdout || r.stderr != tt.stderr {
				t.Errorf("got %d, %q, %q\nwant %d, %q, %q", r.code, r.stdout, r.stderr, tt.code, tt.stdout, tt.stderr)
			}
		})
	}

	// Only the restored files are recorded: not the chunks, not the
	// other tool scripts.
	sum := sha256.Sum256(content)
	events := readLog(t, m)
	if got := kinds(events); got != "file file" {
		t.Fatalf("log = %s, want two file events", got)
	}
	if e := events[0]; e.Path != `C:\image\sub\up.bin` || *e.Size != int64(len(content)) || e.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("file event = %+v", e)
	}
	if e := events[1]; e.Path != `C:\empty.txt` || *e.Size != 0 {
		t.Errorf("file event = %+v", e)
	}
}

func TestAppendCopiesUpFromLower(t *testing.T) {
	lower := t.TempDir()
	m := newMachine(t, func(o *Options) { o.Lowers = []string{lower} })
	writeDisk(t, lower, `C:\notes.txt`, "line 1\r\n")
	if r := exec(t, m, admin, `echo line 2>> C:\notes.txt`); r.code != 0 {
		t.Fatalf("echo: %+v", r)
	}
	got, _ := os.ReadFile(filepath.Join(m.opts.Disk, "c", "notes.txt"))
	if string(got) != "line 1\r\nline 2\r\n" {
		t.Errorf("notes.txt = %q", got)
	}
	if lowerContent, _ := os.ReadFile(filepath.Join(lower, "c", "notes.txt")); string(lowerContent) != "line 1\r\n" {
		t.Errorf("the lower layer changed: %q", lowerContent)
	}
	if got := kinds(readLog(t, m)); got != "command file" {
		t.Errorf("log = %s, want command file", got)
	}
}

func TestCommandsAndScripts(t *testing.T) {
	m := newMachine(t, func(o *Options) { o.FailGlob, o.FailCode = "*Install-Broken*", 7 })
	writeDisk(t, m.opts.Disk, `C:\Windows\Temp\ok.ps1`, "\ufeffWrite-Output 'fine'\n")
	writeDisk(t, m.opts.Disk, `C:\Windows\Temp\bad.ps1`, "Install-Broken -Now\n")
	writeDisk(t, m.opts.Disk, `C:\Windows\Temp\check.ps1`, "& { Write-Output 'restarted.' }\n")
	tests := []struct {
		name       string
		line       string
		code       int
		stdout     string
		wantKinds  string
		stderrHint string
	}{
		{"plain", "choco install -y git", 0, "", "command", ""},
		{"fail glob on the line", "powershell -Command Install-Broken", 7, "", "command", "fail glob"},
		{"fail glob in an encoded script", encoded("Write-Output 1\nInstall-Broken\n"), 7, "", "command", "fail glob"},
		{"script file", `powershell -NoProfile -ExecutionPolicy Bypass -File "C:\Windows\Temp\ok.ps1"`, 0, "", "command script", ""},
		{"fail glob in a script file", `powershell -ExecutionPolicy Bypass "& { &'C:/Windows/Temp/bad.ps1'; exit $LastExitCode }"`, 7, "", "command script", "fail glob"},
		{"missing script file", `powershell -File C:\Windows\Temp\missing.ps1`, 0, "", "command", ""},
		{"restart check in a script", `powershell -File %TEMP%\check.ps1`, 0, "restarted.\r\n", "command script", ""},
		{"echo", "echo hello", 0, "hello\r\n", "command", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(readLog(t, m))
			r := exec(t, m, admin, tt.line)
			if r.code != tt.code || r.stdout != tt.stdout || !strings.Contains(r.stderr, tt.stderrHint) {
				t.Errorf("got %+v, want %d, %q, stderr with %q", r, tt.code, tt.stdout, tt.stderrHint)
			}
			events := readLog(t, m)[before:]
			if got := kinds(events); got != tt.wantKinds {
				t.Errorf("log = %s, want %s", got, tt.wantKinds)
			}
			if len(events) > 0 && (events[0].Exit == nil || *events[0].Exit != tt.code || events[0].User != admin) {
				t.Errorf("command event = %+v, want exit %d by %s", events[0], tt.code, admin)
			}
		})
	}
	events := readLog(t, m)
	if e := events[2]; e.Text != "Write-Output 1\nInstall-Broken\n" {
		t.Errorf("encoded command recorded as %q, want the decoded script", e.Text)
	}
	if e := events[4]; e.Kind != KindScript || e.Path != `C:\Windows\Temp\ok.ps1` || e.Text != "Write-Output 'fine'\n" {
		t.Errorf("script event = %+v", e)
	}
}

func TestElevated(t *testing.T) {
	m := newMachine(t, func(o *Options) { o.Accounts["packer"] = "Elev8ted!" })
	writeDisk(t, m.opts.Disk, `C:\Windows\Temp\inner.ps1`, "Write-Output 'restarted.'\n")
	elevated := func(user, password, command string) string {
		return winrm.ToolScript(winrm.OpElevated,
			winrm.Var{"name", "imgbuild-elevated"}, winrm.Var{"user", user}, winrm.Var{"password", password},
			winrm.Var{"command", command}, winrm.Var{"log", `C:\Windows\Temp\imgbuild-elevated.log`}) + "# the real scheduled task code\n"
	}

	r := exec(t, m, admin, encoded(elevated("packer", "Elev8ted!", `powershell -File C:\Windows\Temp\inner.ps1`)))
	if r.code != 0 || r.stdout != "restarted.\r\n" {
		t.Errorf("elevated = %+v", r)
	}
	events := readLog(t, m)
	if got := kinds(events); got != "elevated command script" {
		t.Fatalf("log = %s", got)
	}
	if e := events[0]; e.User != "packer" || e.Text != `powershell -File C:\Windows\Temp\inner.ps1` || *e.Exit != 0 {
		t.Errorf("elevated event = %+v", e)
	}
	if events[1].User != "packer" {
		t.Errorf("the command ran as %q, want packer", events[1].User)
	}

	// The same script uploaded as a file, with a service account.
	writeDisk(t, m.opts.Disk, `C:\Windows\Temp\elevated.ps1`, elevated("SYSTEM", "", "exit 4"))
	r = exec(t, m, admin, `powershell -NoProfile -ExecutionPolicy Bypass -File C:\Windows\Temp\elevated.ps1`)
	if r.code != 0 {
		t.Errorf("elevated from a file = %+v", r)
	}
	if got := kinds(readLog(t, m)[3:]); got != "command script elevated command" {
		t.Errorf("log = %s", got)
	}

	// A wrong password fails like a failed task registration.
	r = exec(t, m, admin, encoded(elevated("packer", "wrong-pw", "whoami")))
	if r.code != 1 || !strings.Contains(r.stderr, "user name or password is incorrect") {
		t.Errorf("wrong password = %+v", r)
	}
	events = readLog(t, m)
	if e := events[len(events)-1]; e.Kind != KindAuthFailed || e.User != "packer" {
		t.Errorf("last event = %+v, want auth-failed for packer", e)
	}
	log, _ := os.ReadFile(m.LogPath())
	for _, secret := range []string{"Elev8ted!", "wrong-pw"} {
		if strings.Contains(string(log), secret) {
			t.Errorf("the guest log reveals %q", secret)
		}
	}
}

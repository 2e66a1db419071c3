package bootpayload

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/file"
	"github.com/imgbuild/imgbuild/provisioners/powershell"
	"github.com/imgbuild/imgbuild/provisioners/script"
	"github.com/imgbuild/imgbuild/provisioners/shell"
)

// prepared runs a configuration's offline checks, as the template loader
// does, and fails the test on a diagnostic.
func prepared[C interface{ Prepare(*check.Context) }](t *testing.T, dir string, c C) C {
	t.Helper()
	ctx := &check.Context{Fields: check.BodyFields(nil), BaseDir: dir, Unknown: map[string]bool{}}
	c.Prepare(ctx)
	if ctx.Diags.HasErrors() {
		t.Fatalf("prepare %T: %v", c, ctx.Diags)
	}
	return c
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLinuxPayloadRuns compiles shell and file provisioners and runs the
// payload with /bin/sh, as cloud-init would (into a temporary root): the
// files land with their modes, scripts run in order with their
// environment, and a valid non-zero exit code passes.
func TestLinuxPayloadRuns(t *testing.T) {
	tpl, root := t.TempDir(), t.TempDir()
	writeFiles(t, tpl, map[string]string{
		"install.sh":       "#!/bin/sh\r\necho \"script $GREETING\" >> " + root + "/log\r\n",
		"site/index.html":  "<h1>hi</h1>\n",
		"site/css/app.css": "body{}\n",
	})
	if err := os.Chmod(filepath.Join(tpl, "site/index.html"), 0o600); err != nil {
		t.Fatal(err)
	}
	parts := []Part{
		{Type: "file", Where: "main.pkr.hcl:10", Config: prepared(t, tpl, &file.Config{Content: "port=8080\n", Destination: root + "/etc/app/app.conf"})},
		{Type: "file", Name: "site", Where: "main.pkr.hcl:14", Config: prepared(t, tpl, &file.Config{Source: "site/", Destination: root + "/srv/www"})},
		{Type: "shell", Where: "main.pkr.hcl:18", Config: prepared(t, tpl, &shell.Config{
			Source: scriptSource("echo \"inline $GREETING $PACKER_BUILD_NAME\" >> "+root+"/log", "exit 3"),
			Env:    envOf([]string{"GREETING=it's $HOME"}, map[string]string{"B": "2"}), ValidExitCodes: []int{0, 3}})},
		{Type: "shell", Where: "main.pkr.hcl:22", Config: prepared(t, tpl, &shell.Config{Source: scriptFiles("install.sh"),
			Env: envOf([]string{"GREETING=from-file"}, nil)})},
	}
	payload, err := Compile(Target{BuildName: "app.amazon-ebs.web", BuilderType: "amazon-ebs", BaseDir: tpl, Strategy: "hybrid"}, parts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(payload, []byte("#!/bin/sh\n")) {
		t.Fatalf("payload does not start with #!/bin/sh:\n%s", payload)
	}
	out := runSh(t, payload)
	for name, want := range map[string]string{
		"etc/app/app.conf":    "port=8080\n",
		"srv/www/index.html":  "<h1>hi</h1>\n",
		"srv/www/css/app.css": "body{}\n",
		"log":                 "inline it's $HOME app.amazon-ebs.web\nscript from-file\n",
	} {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q (%v), want %q\npayload output:\n%s", name, got, err, want, out)
		}
	}
	for name, want := range map[string]os.FileMode{"etc/app/app.conf": 0o644, "srv/www/index.html": 0o600} {
		if fi, err := os.Stat(filepath.Join(root, name)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("mode of %s: %v (%v), want %v", name, fi.Mode().Perm(), err, want)
		}
	}
}

// TestLinuxPayloadStopsAtFailure checks that a failing script stops the
// payload with a message naming the provisioner and its line.
func TestLinuxPayloadStopsAtFailure(t *testing.T) {
	tpl, root := t.TempDir(), t.TempDir()
	parts := []Part{
		{Type: "shell", Name: "broken", Where: "main.pkr.hcl:7", Config: prepared(t, tpl, &shell.Config{Source: scriptSource("exit 2")})},
		{Type: "file", Where: "main.pkr.hcl:9", Config: prepared(t, tpl, &file.Config{Content: "x", Destination: root + "/after"})},
	}
	payload, err := Compile(Target{BuildName: "b", BaseDir: tpl}, parts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", string(payload))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("payload succeeded:\n%s", out)
	}
	if want := `imgbuild boot payload: provisioner shell "broken" (main.pkr.hcl:7) script 1 exited with 2`; !strings.Contains(string(out), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if _, err := os.Stat(root + "/after"); err == nil {
		t.Error("the provisioner after the failure ran")
	}
}

// TestLinuxPayloadGzip checks that a payload over 16384 bytes that
// compresses under it is gzip-compressed, and still runs.
func TestLinuxPayloadGzip(t *testing.T) {
	tpl, root := t.TempDir(), t.TempDir()
	big := strings.Repeat("all work and no play\n", 2000) // 42000 bytes
	parts := []Part{{Type: "file", Where: "main.pkr.hcl:3", Config: prepared(t, tpl, &file.Config{Content: big, Destination: root + "/big.txt"})}}
	payload, err := Compile(Target{BuildName: "b", BaseDir: tpl}, parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(payload) > MaxSize {
		t.Fatalf("payload is %d bytes", len(payload))
	}
	zr, err := gzip.NewReader(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("payload is not gzip: %v", err)
	}
	script, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	runSh(t, script)
	if got, _ := os.ReadFile(root + "/big.txt"); string(got) != big {
		t.Errorf("big.txt has %d bytes, want %d", len(got), len(big))
	}
}

// TestTooLarge checks that a payload over the limit even compressed (or on
// Windows, where it cannot be) fails naming its largest contributors.
func TestTooLarge(t *testing.T) {
	tpl := t.TempDir()
	noise := make([]byte, 20000)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, tpl, map[string]string{"blob.bin": string(noise)})
	compressible := strings.Repeat("a", 30000)
	for _, tc := range []struct {
		name    string
		windows bool
		parts   []Part
		want    []string
	}{
		{"linux", false, []Part{
			{Type: "shell", Where: "main.pkr.hcl:5", Config: prepared(t, tpl, &shell.Config{Source: scriptSource("true")})},
			{Type: "file", Name: "blob", Where: "main.pkr.hcl:9", Config: prepared(t, tpl, &file.Config{Source: "blob.bin", Destination: "/opt/blob.bin"})},
		}, []string{"gzip-compressed", `largest: provisioner file "blob" (main.pkr.hcl:9) 27`, "provisioner shell (main.pkr.hcl:5)"}},
		{"windows", true, []Part{
			{Type: "file", Where: "main.pkr.hcl:3", Config: prepared(t, tpl, &file.Config{Content: compressible, Destination: `C:\app\a.txt`})},
		}, []string{"Windows cannot read compressed user data", "largest: provisioner file (main.pkr.hcl:3) 40"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(Target{BuildName: "b", BaseDir: tpl, Windows: tc.windows}, tc.parts)
			var tl *TooLargeError
			if !errors.As(err, &tl) {
				t.Fatalf("err = %v, want a TooLargeError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

// TestRefused checks the errors of parts a payload cannot carry, each
// naming the provisioner and its line.
func TestRefused(t *testing.T) {
	tpl := t.TempDir()
	for _, tc := range []struct {
		name    string
		windows bool
		part    Part
		want    string
	}{
		{"download", false, Part{Type: "file", Where: "m.pkr.hcl:1", Config: prepared(t, tpl, &file.Config{Source: "/etc/hosts", Destination: "hosts", Direction: "download"})},
			"provisioner file (m.pkr.hcl:1): a download cannot be deferred"},
		{"relative destination", false, Part{Type: "file", Where: "m.pkr.hcl:2", Config: prepared(t, tpl, &file.Config{Content: "x", Destination: "app.conf"})},
			`provisioner file (m.pkr.hcl:2): destination "app.conf" is not an absolute path`},
		{"linux path on windows", true, Part{Type: "file", Where: "m.pkr.hcl:3", Config: prepared(t, tpl, &file.Config{Content: "x", Destination: "/etc/x"})},
			`destination "/etc/x" is not an absolute path`},
		{"powershell on linux", false, Part{Type: "powershell", Where: "m.pkr.hcl:4", Config: prepared(t, tpl, &powershell.Config{Source: scriptSource("dir")})},
			"provisioner powershell (m.pkr.hcl:4): cannot be deferred to a Linux boot payload"},
		{"shell on windows", true, Part{Type: "shell", Where: "m.pkr.hcl:5", Config: prepared(t, tpl, &shell.Config{Source: scriptSource("ls")})},
			"provisioner shell (m.pkr.hcl:5): cannot be deferred to a Windows boot payload"},
		{"missing script", false, Part{Type: "shell", Where: "m.pkr.hcl:6", Config: &shell.Config{Source: scriptFiles("gone.sh")}},
			"provisioner shell (m.pkr.hcl:6): read script: open " + filepath.Join(tpl, "gone.sh")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(Target{BuildName: "b", BaseDir: tpl, Windows: tc.windows}, []Part{tc.part})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestWindowsPayload checks the <powershell> payload: scripts and files
// decoded from base64 as written, the environment set around each run,
// valid exit codes, the interpreter and policy honoured.
func TestWindowsPayload(t *testing.T) {
	tpl := t.TempDir()
	writeFiles(t, tpl, map[string]string{"setup.ps1": "Write-Output 'from file'\r\n"})
	parts := []Part{
		{Type: "powershell", Name: "app", Where: "w.pkr.hcl:4", Config: prepared(t, tpl, &powershell.Config{
			Source: scriptSource("Write-Output $env:GREETING"), Env: envOf([]string{"GREETING=it's"}, nil), ValidExitCodes: []int{0, 3010}, UsePwsh: true})},
		{Type: "file", Where: "w.pkr.hcl:9", Config: prepared(t, tpl, &file.Config{Content: "port=80", Destination: `C:\app\app.conf`})},
		{Type: "powershell", Where: "w.pkr.hcl:12", Config: prepared(t, tpl, &powershell.Config{Source: scriptFiles("setup.ps1"), ExecutionPolicy: "none"})},
	}
	payload, err := Compile(Target{BuildName: "win.amazon-ebs.w", BuilderType: "amazon-ebs", Windows: true, BaseDir: tpl}, parts)
	if err != nil {
		t.Fatal(err)
	}
	s := string(payload)
	if !strings.HasPrefix(s, "<powershell>\n") || !strings.HasSuffix(s, "</powershell>\n") {
		t.Fatalf("not <powershell> user data:\n%s", s)
	}
	for _, want := range []string{
		"${env:GREETING} = 'it''s'\n",
		"${env:PACKER_BUILD_NAME} = 'win.amazon-ebs.w'\n",
		"& pwsh -NoProfile -ExecutionPolicy bypass -File \"$d\\1-1.ps1\"\n",
		"Remove-Item -LiteralPath 'Env:GREETING'",
		"if (@(0,3010) -notcontains $rc)",
		"New-Item -ItemType Directory -Force -Path 'C:\\app' | Out-Null\n",
		"& powershell -NoProfile -File \"$d\\3-1.ps1\"\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("payload lacks %q:\n%s", want, s)
		}
	}
	decoded := map[string]string{}
	for _, m := range regexp.MustCompile(`WriteAllBytes\(("[^"]*"|'[^']*'), \[Convert\]::FromBase64String\('([^']*)'\)\)`).FindAllStringSubmatch(s, -1) {
		b, err := base64.StdEncoding.DecodeString(m[2])
		if err != nil {
			t.Fatal(err)
		}
		decoded[m[1]] = string(b)
	}
	for dst, want := range map[string]string{
		`"$d\1-1.ps1"`:      "Write-Output $env:GREETING\n",
		`'C:\app\app.conf'`: "port=80",
		`"$d\3-1.ps1"`:      "Write-Output 'from file'\r\n",
	} {
		if decoded[dst] != want {
			t.Errorf("%s holds %q, want %q", dst, decoded[dst], want)
		}
	}
}

// TestNothingDeferred checks that no parts make no payload.
func TestNothingDeferred(t *testing.T) {
	if p, err := Compile(Target{BuildName: "b"}, nil); p != nil || err != nil {
		t.Errorf("Compile(nil) = %q, %v", p, err)
	}
}

func runSh(t *testing.T, script []byte) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", string(script)).CombinedOutput()
	if err != nil {
		t.Fatalf("payload: %v\n%s\n--- payload ---\n%s", err, out, script)
	}
	return string(out)
}

func scriptSource(inline ...string) script.Source { return script.Source{Inline: inline} }

func scriptFiles(paths ...string) script.Source { return script.Source{Scripts: paths} }

func envOf(vars []string, env map[string]string) script.Env {
	return script.Env{EnvironmentVars: vars, Env: env}
}

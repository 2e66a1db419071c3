package winrm

import (
	"encoding/base64"
	"maps"
	"strings"
	"testing"
	"unicode/utf16"

	mwinrm "github.com/masterzen/winrm"
)

func TestToolScriptRoundTrip(t *testing.T) {
	vars := []Var{
		{"src", `C:\Windows\Temp\imgbuild-upload-0f.b64`},
		{"dst", `C:\Program Files\it's "quoted"\a.txt`},
		{"command", "line one\nline 'two'"},
		{"empty", ""},
	}
	head := ToolScript(OpRestore, vars...)
	const want = "# imgbuild restore\n" +
		"$src = 'C:\\Windows\\Temp\\imgbuild-upload-0f.b64'\n" +
		"$dst = 'C:\\Program Files\\it''s \"quoted\"\\a.txt'\n" +
		"$command = 'line one\nline ''two'''\n" +
		"$empty = ''\n" +
		"\n"
	if head != want {
		t.Errorf("ToolScript =\n%s\nwant:\n%s", head, want)
	}
	wantVars := map[string]string{}
	for _, v := range vars {
		wantVars[v[0]] = v[1]
	}
	body := "$ErrorActionPreference = 'Stop'\n$x = 'not a variable of the head'\n"
	tests := []struct{ name, text string }{
		{"as written", head + body},
		{"winrm.Powershell prefix", progressPrefix + head + body},
		{"file with BOM and CRLF", "\ufeff" + strings.ReplaceAll(head, "\n", "\r\n") + body},
		{"leading blank lines", "\r\n\n" + head},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, got, ok := ParseToolScript(tt.text)
			if !ok || op != OpRestore {
				t.Fatalf("ParseToolScript = %q, ok %v", op, ok)
			}
			if tt.name == "file with BOM and CRLF" {
				wantVars["command"] = "line one\r\nline 'two'"
				defer func() { wantVars["command"] = "line one\nline 'two'" }()
			}
			if !maps.Equal(got, wantVars) {
				t.Errorf("vars = %q, want %q", got, wantVars)
			}
		})
	}
}

func TestParseToolScriptRejects(t *testing.T) {
	for _, text := range []string{
		"",
		"Write-Output 'hello'",
		"# imgbuild\n",
		"# imgbuild two words\n",
		"# imgbuilder restore\n",
		"$x = 1\n# imgbuild restore\n",
	} {
		if op, _, ok := ParseToolScript(text); ok {
			t.Errorf("ParseToolScript(%q) = %q, want not a tool script", text, op)
		}
	}
	// Variables end at the first other line; later assignments are body.
	_, vars, ok := ParseToolScript("# imgbuild list\n$path = 'C:\\'\n\n$late = 'x'\n")
	if !ok || len(vars) != 1 || vars["path"] != `C:\` {
		t.Errorf("vars = %q, want only path", vars)
	}
}

// TestToolCommandsFitCommandLine checks the encoded tool scripts stay
// well under cmd.exe's 8191-character limit with long paths.
func TestToolCommandsFitCommandLine(t *testing.T) {
	long := `C:\Program Files\` + strings.Repeat("a long directory name\\", 8) + "file.txt"
	tmp, _ := uploadTempName()
	for _, tc := range []struct {
		op, body string
		vars     []Var
	}{
		{OpRestore, restoreBody, []Var{{"src", tmp}, {"dst", long}}},
		{OpMkdir, mkdirBody, []Var{{"path", long}}},
		{OpDownload, downloadBody, []Var{{"path", long}}},
		{OpList, listBody, []Var{{"path", long}}},
	} {
		line := toolCommand(tc.op, tc.body, tc.vars...)
		t.Logf("%s: %d characters", tc.op, len(line))
		if len(line) > 7000 {
			t.Errorf("%s command line has %d characters; cmd.exe takes at most 8191", tc.op, len(line))
		}
		if decoded := decodeCommand(t, line); !strings.Contains(decoded, ToolScriptHeader+tc.op+"\n") {
			t.Errorf("%s: decoded command lacks the header:\n%s", tc.op, decoded)
		}
	}
	// The echo chunks leave the same margin.
	chunk := strings.Repeat("A", base64.StdEncoding.EncodedLen(chunkSize(len(`echo  >> ""`)+len(tmp))))
	if n := len(`echo ` + chunk + ` >> "` + tmp + `"`); n > cmdLineBudget {
		t.Errorf("echo chunk command has %d characters, budget %d", n, cmdLineBudget)
	}
}

// decodeCommand decodes a powershell.exe -EncodedCommand line.
func decodeCommand(t *testing.T, line string) string {
	t.Helper()
	b64, ok := strings.CutPrefix(line, "powershell.exe -EncodedCommand ")
	if !ok {
		t.Fatalf("not an encoded command: %.60s", line)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	return string(utf16.Decode(units))
}

// TestPowershellPrefix pins what masterzen/winrm puts before a script,
// which ParseToolScript skips.
func TestPowershellPrefix(t *testing.T) {
	got := decodeCommand(t, mwinrm.Powershell("x"))
	if got != progressPrefix+"x" {
		t.Errorf("winrm.Powershell(x) decodes to %q, want %q", got, progressPrefix+"x")
	}
}

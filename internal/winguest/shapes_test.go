package winguest

import (
	"slices"
	"strings"
	"testing"
)

func TestResolvePath(t *testing.T) {
	tests := []struct {
		in, user, want string // want: "<drive>/<parts>" or "error"
	}{
		{`C:\Windows\Temp\a.ps1`, admin, "c/Windows/Temp/a.ps1"},
		{`c:/Windows/Temp/a.ps1`, admin, "c/Windows/Temp/a.ps1"},
		{`"C:\Program Files\x y\z.txt"`, admin, "c/Program Files/x y/z.txt"},
		{`'D:\data\f'`, admin, "d/data/f"},
		{`%TEMP%\a.ps1`, admin, "c/Windows/Temp/a.ps1"},
		{`%temp%/a.ps1`, admin, "c/Windows/Temp/a.ps1"},
		{`$env:TEMP\a.ps1`, admin, "c/Windows/Temp/a.ps1"},
		{`$Env:SystemRoot\System32`, admin, "c/Windows/System32"},
		{`%USERPROFILE%\Desktop`, "EC2AMAZ\\bob", "c/Users/bob/Desktop"},
		{`%UNKNOWN%\x`, admin, "c/Users/Administrator/%UNKNOWN%/x"},
		{`script.ps1`, admin, "c/Users/Administrator/script.ps1"},
		{`.\sub\..\script.ps1`, admin, "c/Users/Administrator/script.ps1"},
		{`\top\x`, admin, "c/top/x"},
		{`C:\a\..\..\..\b`, admin, "c/b"},
		{`C:\`, admin, "c/"},
		{`\\server\share\x`, admin, "error"},
		{``, admin, "error"},
	}
	for _, tt := range tests {
		p, err := resolvePath(tt.in, tt.user)
		got := p.drive + "/" + strings.Join(p.parts, "/")
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("resolvePath(%q) = %s (%v), want %s", tt.in, got, err, tt.want)
		}
	}
	p, _ := resolvePath(`c:/Windows/Temp/a.ps1`, admin)
	if p.String() != `C:\Windows\Temp\a.ps1` || p.under("/disk") != "/disk/c/Windows/Temp/a.ps1" {
		t.Errorf("path %q maps to %q", p.String(), p.under("/disk"))
	}
}

func TestDecodeEncoded(t *testing.T) {
	script := "Write-Output 'héllo'\nexit 3"
	line := encoded(script)
	b64 := strings.TrimPrefix(line, "powershell.exe -EncodedCommand ")
	for _, l := range []string{
		line,
		"powershell -NoProfile -ExecutionPolicy Bypass -enc " + b64,
		`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -e ` + b64,
		"cmd /c powershell.exe -ec " + b64,
		"PowerShell.exe -ENCODEDCOMMAND " + b64,
	} {
		got, ok := decodeEncoded(l)
		if !ok || got != progressPrefix+script {
			t.Errorf("decodeEncoded(%.50q) = %q, %v", l, got, ok)
		}
	}
	for _, l := range []string{
		"powershell -Command Write-Output hi",
		"powershell -ExecutionPolicy Bypass -File x.ps1",
		"echo -enc " + b64,
		"powershell -enc not*base64",
	} {
		if got, ok := decodeEncoded(l); ok {
			t.Errorf("decodeEncoded(%q) = %q, want no script", l, got)
		}
	}
}

func TestParseEcho(t *testing.T) {
	tests := []struct {
		line string
		want echoCmd
		ok   bool
	}{
		{`echo QUJD >> "C:\Windows\Temp\x.b64"`, echoCmd{"QUJD ", `C:\Windows\Temp\x.b64`, true}, true},
		{`echo hi> C:\f.txt`, echoCmd{"hi", `C:\f.txt`, false}, true},
		{`@ECHO hello world`, echoCmd{text: "hello world"}, true},
		{`echo "a > b"`, echoCmd{text: `"a > b"`}, true},
		{`echo a && del x`, echoCmd{}, false},
		{`echoes x`, echoCmd{}, false},
	}
	for _, tt := range tests {
		got, ok := parseEcho(tt.line)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseEcho(%q) = %+v, %v; want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestScriptRefs(t *testing.T) {
	tests := []struct {
		text        string
		commandLine bool
		want        []string
	}{
		{`powershell -NoProfile -ExecutionPolicy Bypass -File C:\Windows\Temp\a.ps1`, false, []string{`C:\Windows\Temp\a.ps1`}},
		{`powershell -file "C:\Program Files\b.ps1" -Arg 1`, true, []string{"powershell", `C:\Program Files\b.ps1`}},
		{`powershell -executionpolicy bypass "& { . 'C:/Windows/Temp/vars.ps1'; &'C:/Windows/Temp/script.ps1'; exit $LastExitCode }"`, false,
			[]string{`C:/Windows/Temp/vars.ps1`, `C:/Windows/Temp/script.ps1`}},
		{`& "C:\x.ps1"`, false, []string{`C:\x.ps1`}},
		{". C:\\dot.ps1\n& 'C:\\amp.ps1'", false, []string{`C:\dot.ps1`, `C:\amp.ps1`}},
		{`set "A=1" && "C:/Windows/Temp/script.bat"`, true, []string{`set`, `C:/Windows/Temp/script.bat`}},
		{`cmd /c C:\w.cmd`, true, []string{`C:\w.cmd`}},
		{`cmd /c C:\w.cmd`, false, nil},
	}
	for _, tt := range tests {
		if got := scriptRefs(tt.text, tt.commandLine); !slices.Equal(got, tt.want) {
			t.Errorf("scriptRefs(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestSysprepDetection(t *testing.T) {
	tests := []struct {
		text  string
		agent string // "" = no shutdown
	}{
		{`& "C:\Program Files\Amazon\EC2Launch\ec2launch.exe" sysprep --shutdown`, "EC2Launch v2"},
		{`& 'C:\Program Files\Amazon\EC2Launch\ec2launch.exe' sysprep --shutdown=true --clean`, "EC2Launch v2"},
		{`EC2LAUNCH SYSPREP -S`, "EC2Launch v2"},
		{`& "$env:ProgramFiles\Amazon\EC2Launch\ec2launch.exe" sysprep --shutdown --clean`, "EC2Launch v2"},
		{`ec2launch sysprep`, ""},
		{`ec2launch.exe sysprep --shutdown=false`, ""},
		{`C:/ProgramData/Amazon/EC2-Windows/Launch/Scripts/SysprepInstance.ps1`, "EC2Launch v1"},
		{`powershell -File C:\ProgramData\Amazon\EC2-Windows\Launch\Scripts\sysprepinstance.ps1 -Schedule`, "EC2Launch v1"},
		{`& "$env:ProgramData\Amazon\EC2-Windows\Launch\Scripts\SysprepInstance.ps1"`, "EC2Launch v1"},
		{`C:/ProgramData/Amazon/EC2-Windows/Launch/Scripts/SysprepInstance.ps1 -NoShutdown`, ""},
		{`C:/ProgramData/Amazon/EC2-Windows/Launch/Scripts/SysprepInstance.ps1 -noshutdown`, ""},
		{`& "C:\Program Files\Amazon\Ec2ConfigService\ec2config.exe" -sysprep`, "EC2Config"},
		{`Ec2Config.exe -SYSPREP`, "EC2Config"},
		{`& "$env:ProgramFiles\Amazon\Ec2ConfigService\ec2config.exe" -sysprep`, "EC2Config"},
		{`C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown /quiet`, "sysprep.exe"},
		{`c:\windows\system32\sysprep\SYSPREP.EXE /oobe /SHUTDOWN`, "sysprep.exe"},
		{`C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /quit`, ""},
		{"Write-Output 'no sysprep here'\nsysprep is a word", ""},
	}
	for _, tt := range tests {
		agent, _, ok := sysprepShutdown(tt.text)
		if agent != tt.agent || ok != (tt.agent != "") {
			t.Errorf("sysprepShutdown(%q) = %q, %v; want %q", tt.text, agent, ok, tt.agent)
		}
	}
}

func TestPowerEffect(t *testing.T) {
	tests := []struct {
		text string
		want effect
	}{
		{`shutdown /r /f /t 0 /c "packer restart"`, effectRestart},
		{`SHUTDOWN.EXE -r -t 10`, effectRestart},
		{`cmd /c "shutdown /g /t 0"`, effectRestart},
		{`Restart-Computer -Force`, effectRestart},
		{`shutdown /s /t 0`, effectPoweroff},
		{`Stop-Computer -Force`, effectPoweroff},
		{`shutdown /a`, noEffect},
		{`Write-Output "shutdown soon"`, noEffect},
	}
	for _, tt := range tests {
		if got := powerEffect(tt.text); got != tt.want {
			t.Errorf("powerEffect(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

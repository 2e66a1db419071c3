package bootpayload

import (
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/provisioners/powershell"
	"github.com/imgbuild/imgbuild/provisioners/shell"
)

// TestPauseAfter: a deferred shell or powershell provisioner's
// pause_after becomes a sleep after its scripts in the boot payload, as
// pause_before is one before them, so the setting is not dropped.
func TestPauseAfter(t *testing.T) {
	tpl := t.TempDir()
	lin, err := Compile(Target{BuildName: "b.amazon-ebs.l", BuilderType: "amazon-ebs", BaseDir: tpl}, []Part{
		{Type: "shell", Config: prepared(t, tpl, &shell.Config{Source: scriptSource("echo hi"), PauseAfter: "90s"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(lin); !strings.Contains(s, "esac\nsleep 90\n") {
		t.Errorf("linux payload lacks the pause after the script:\n%s", s)
	}
	win, err := Compile(Target{BuildName: "b.amazon-ebs.w", BuilderType: "amazon-ebs", Windows: true, BaseDir: tpl}, []Part{
		{Type: "powershell", Config: prepared(t, tpl, &powershell.Config{Source: scriptSource("Write-Output hi"), PauseAfter: "1m30s"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(win); !strings.Contains(s, "Start-Sleep -Seconds 90\n") {
		t.Errorf("windows payload lacks the pause:\n%s", s)
	}
}

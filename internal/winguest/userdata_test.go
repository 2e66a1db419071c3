package winguest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/testwait"
)

func TestUserDataPasswords(t *testing.T) {
	tests := []struct {
		name     string
		userData string
		want     map[string]string // user -> password; "" means no such user
	}{
		{"powershell double quotes", `<powershell>net user Administrator "P@ss w0rd;1"</powershell>`,
			map[string]string{admin: "P@ss w0rd;1"}},
		{"powershell single quotes", "<powershell>\r\nnet user administrator 'it''s-me'\r\n</powershell>",
			map[string]string{admin: "it's-me"}},
		{"script unquoted", "<script>\nnet.exe user Administrator Plain-123\n</script>",
			map[string]string{admin: "Plain-123"}},
		{"add user", `<powershell>net user packer 'Pack3r!' /add /y; net localgroup administrators packer /add</powershell>`,
			map[string]string{"packer": "Pack3r!", "PACKER": "Pack3r!", admin: adminPW}},
		{"missing user without add", `<powershell>net user ghost secret</powershell>`,
			map[string]string{"ghost": "", admin: adminPW}},
		{"options and prompts are no passwords", "<script>net user Administrator /active:yes\nnet user Administrator *</script>",
			map[string]string{admin: adminPW}},
		{"no script block", `net user Administrator notrun`, map[string]string{admin: adminPW}},
		{"wrong tag case", `<PowerShell>net user Administrator notrun</PowerShell>`, map[string]string{admin: adminPW}},
		{"two blocks, last wins", "<script>net user Administrator first</script><powershell>net user Administrator second</powershell><persist>true</persist>",
			map[string]string{admin: "second"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(t, func(o *Options) {
				o.UserData = []byte(tt.userData)
				o.HTTPPort, o.HTTPSPort = testwait.FreePort(t), testwait.FreePort(t)
			})
			if err := m.Boot(context.Background()); err != nil {
				t.Fatal(err)
			}
			for user, want := range tt.want {
				got, ok := m.Password(user)
				if want == "" && ok || want != "" && got != want {
					t.Errorf("Password(%q) = %q, %v; want %q", user, got, ok, want)
				}
			}
			log, err := os.ReadFile(m.LogPath())
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"P@ss w0rd", "it''s-me", "Plain-123", "Pack3r!", "second", "notrun", "first", adminPW} {
				if strings.Contains(string(log), secret) {
					t.Errorf("the guest log reveals %q:\n%s", secret, log)
				}
			}
			if events := readLog(t, m); len(events) < 2 || events[0].Kind != KindBoot || events[1].Kind != KindUserData {
				t.Errorf("log = %s, want boot then userdata", kinds(events))
			}
		})
	}
}

func TestUserDataMasking(t *testing.T) {
	for in, want := range map[string]string{
		`net user Administrator "P@ss w0rd"`:                        `net user Administrator ********`,
		"net user bob 'x''y' /add; Write-Output done":               `net user bob ******** /add; Write-Output done`,
		"NET.EXE USER bob secret\nnet user bob /active:yes":         "NET.EXE USER bob ********\nnet user bob /active:yes",
		"# imgbuild elevated\n$user = 'bob'\n$password = 'it''s'\n": "# imgbuild elevated\n$user = 'bob'\n$password = '********'\n",
		`$AdminPassword = 'abc'; Write-Output $AdminPassword`:       `$AdminPassword = '********'; Write-Output $AdminPassword`,
		"$Password = \"a`\"b\"\n$x = 1":                             "$Password = '********'\n$x = 1",
		"nothing secret":                                            "nothing secret",
	} {
		if got := maskSecrets(in); got != want {
			t.Errorf("maskSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUserDataPersist(t *testing.T) {
	for _, persist := range []bool{false, true} {
		ud := "<powershell>Write-Output hi</powershell>"
		if persist {
			ud += "<persist>true</persist>"
		}
		m := newMachine(t, func(o *Options) {
			o.UserData = []byte(ud)
			o.HTTPPort, o.HTTPSPort = testwait.FreePort(t), testwait.FreePort(t)
		})
		for range 2 {
			if err := m.Boot(context.Background()); err != nil {
				t.Fatal(err)
			}
			m.Stop()
		}
		want := "boot userdata boot"
		if persist {
			want = "boot userdata boot userdata"
		}
		if got := kinds(readLog(t, m)); got != want {
			t.Errorf("persist=%v: log = %s, want %s", persist, got, want)
		}
	}
}

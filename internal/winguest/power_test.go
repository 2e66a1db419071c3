package winguest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/testwait"
)

// bootMachine boots a machine on free loopback ports and connects a
// WinRM client to it.
func bootMachine(t *testing.T, edit func(*Options)) (*Machine, *winrm.Client) {
	t.Helper()
	m := newMachine(t, func(o *Options) {
		o.HTTPPort, o.HTTPSPort = testwait.FreePort(t), testwait.FreePort(t)
		if edit != nil {
			edit(o)
		}
	})
	if err := m.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := winrm.Connect(context.Background(), clientOptions(m, adminPW))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return m, c
}

func clientOptions(m *Machine, password string) winrm.Options {
	return winrm.Options{Host: m.opts.IP, Port: m.opts.HTTPPort, User: admin, Password: password, Timeout: 20 * time.Second}
}

// runOn runs a command and returns its status; a lost connection counts
// as success, as for a command that restarts the machine.
func runOn(t *testing.T, c *winrm.Client, command string) int {
	t.Helper()
	status, err := c.Run(context.Background(), &provision.Cmd{Command: command})
	if err != nil && !errors.Is(err, winrm.ErrDisconnected) {
		t.Fatalf("Run(%q): %v", command, err)
	}
	return status
}

// stops records the reasons OnStop is called with.
type stops struct {
	mu      sync.Mutex
	reasons []string
}

func (s *stops) onStop(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reasons = append(s.reasons, reason)
}

func (s *stops) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reasons...)
}

func TestRestartDropsWinRM(t *testing.T) {
	var st stops
	m, c := bootMachine(t, func(o *Options) {
		o.RestartDelay = 300 * time.Millisecond
		o.UserData = []byte("<powershell>Write-Output boot</powershell><persist>true</persist>")
		o.OnStop = st.onStop
	})
	if !m.Ready() || !listens(m.opts.HTTPPort) || !listens(m.opts.HTTPSPort) {
		t.Fatal("WinRM not up after Boot")
	}
	if status := runOn(t, c, "Restart-Computer -Force"); status != 0 {
		t.Fatalf("restart command status %d", status)
	}
	testwait.Eventually(t, "WinRM to go down", func() bool { return !m.Ready() && !listens(m.opts.HTTPPort) })
	testwait.Eventually(t, "WinRM to come back", func() bool { return m.Ready() && listens(m.opts.HTTPPort) })
	if err := c.Reconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status := runOn(t, c, "echo back"); status != 0 {
		t.Errorf("after the restart: status %d", status)
	}
	// echo ok is the client's connection probe.
	want := "boot userdata command command restart boot userdata command command"
	if got := kinds(readLog(t, m)); got != want {
		t.Errorf("log = %s\nwant  %s", got, want)
	}
	if got := st.get(); len(got) != 0 {
		t.Errorf("OnStop called with %q for a restart", got)
	}
}

func TestSysprepStopsMachine(t *testing.T) {
	tests := []struct {
		command string
		stop    bool
	}{
		{`& "C:\Program Files\Amazon\EC2Launch\ec2launch.exe" sysprep --shutdown=true`, true},
		{`& "C:\Program Files\Amazon\EC2Launch\ec2launch.exe" sysprep`, false},
		{`powershell -File C:/ProgramData/Amazon/EC2-Windows/Launch/Scripts/SysprepInstance.ps1`, true},
		{`powershell -File C:/ProgramData/Amazon/EC2-Windows/Launch/Scripts/SysprepInstance.ps1 -NoShutdown`, false},
		{`"C:\Program Files\Amazon\Ec2ConfigService\ec2config.exe" -sysprep`, true},
		{`C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /shutdown /quiet`, true},
		{`C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /quit /quiet`, false},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			var st stops
			m, c := bootMachine(t, func(o *Options) { o.SysprepDelay = 200 * time.Millisecond; o.OnStop = st.onStop })
			if status := runOn(t, c, tt.command); status != 0 {
				t.Fatalf("status %d", status)
			}
			if !tt.stop {
				time.Sleep(400 * time.Millisecond) // twice the sysprep delay
				if !m.Ready() || len(st.get()) != 0 {
					t.Errorf("the machine stopped (ready %v, OnStop %q)", m.Ready(), st.get())
				}
				if strings.Contains(kinds(readLog(t, m)), KindSysprep) {
					t.Errorf("log = %s, want no sysprep event", kinds(readLog(t, m)))
				}
				return
			}
			testwait.Eventually(t, "OnStop", func() bool { return len(st.get()) == 1 })
			if got := st.get(); got[0] != "sysprep" || m.Ready() || listens(m.opts.HTTPPort) {
				t.Errorf("OnStop(%q), ready %v", got, m.Ready())
			}
			events := readLog(t, m)
			last := events[len(events)-1]
			if last.Kind != KindSysprep || events[len(events)-2].Kind != KindCommand {
				t.Errorf("log = %s, want command then sysprep at the end", kinds(events))
			}
			// Stopped by itself, the machine boots again on request.
			if err := m.Boot(context.Background()); err != nil {
				t.Fatalf("Boot after sysprep: %v", err)
			}
			if !m.Ready() {
				t.Error("not ready after booting again")
			}
		})
	}
}

func TestPoweroff(t *testing.T) {
	var st stops
	m, c := bootMachine(t, func(o *Options) { o.OnStop = st.onStop })
	if status := runOn(t, c, "shutdown /s /t 0"); status != 0 {
		t.Fatalf("status %d", status)
	}
	testwait.Eventually(t, "OnStop", func() bool { return len(st.get()) == 1 })
	if got := st.get(); got[0] != "poweroff" || m.Ready() {
		t.Errorf("OnStop(%q), ready %v", got, m.Ready())
	}
	if got := kinds(readLog(t, m)); !strings.HasSuffix(got, "command poweroff") {
		t.Errorf("log = %s", got)
	}
}

func TestOnStopMayStop(t *testing.T) {
	var m *Machine
	done := make(chan struct{})
	m, c := bootMachine(t, func(o *Options) {
		o.OnStop = func(string) {
			m.Stop() // as the local cloud does when the instance stops
			close(done)
		}
	})
	runOn(t, c, "Stop-Computer -Force")
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("OnStop calling Stop deadlocked")
	}
}

func TestStopDuringBoot(t *testing.T) {
	m := newMachine(t, func(o *Options) {
		o.BootDelay = time.Hour
		o.HTTPPort, o.HTTPSPort = testwait.FreePort(t), testwait.FreePort(t)
	})
	errc := make(chan error, 1)
	go func() { errc <- m.Boot(context.Background()) }()
	testwait.Eventually(t, "the boot to start", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.cycle != nil
	})
	m.Stop()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrStopped) {
			t.Errorf("Boot = %v, want ErrStopped", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Boot did not return after Stop")
	}
	if m.Ready() || len(readLog(t, m)) != 0 {
		t.Errorf("ready %v, log %s", m.Ready(), kinds(readLog(t, m)))
	}
}

func TestAuthFailedRecorded(t *testing.T) {
	m, _ := bootMachine(t, nil)
	_, err := winrm.Connect(context.Background(), clientOptions(m, "bad-password"))
	if !errors.Is(err, winrm.ErrAuth) {
		t.Fatalf("Connect = %v, want ErrAuth", err)
	}
	events := readLog(t, m)
	if e := events[len(events)-1]; e.Kind != KindAuthFailed || e.User != admin {
		t.Errorf("last event = %+v, want auth-failed for %s", e, admin)
	}
}

// TestLogOrder follows a small build: upload a script, run it elevated
// and directly, restart, and checks the log's content and order.
func TestLogOrder(t *testing.T) {
	m, c := bootMachine(t, func(o *Options) {
		o.UserData = []byte(`<powershell>net user Administrator "` + adminPW + `"</powershell>`)
		o.RestartDelay = 100 * time.Millisecond
	})
	ctx := context.Background()
	if err := c.Upload(ctx, `C:\Windows\Temp\script.ps1`, strings.NewReader("Write-Output 'hello'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runOn(t, c, `powershell -executionpolicy bypass "& { &'C:/Windows/Temp/script.ps1'; exit $LastExitCode }"`)
	runOn(t, c, `shutdown /r /t 0`)
	testwait.Eventually(t, "the second boot", func() bool { return strings.Count(kinds(readLog(t, m)), KindBoot) == 2 })
	events := readLog(t, m)
	want := []struct{ kind, text string }{
		{KindBoot, ""},
		{KindUserData, `net user Administrator ********`},
		{KindCommand, "echo ok"},
		{KindFile, ""},
		{KindCommand, `powershell -executionpolicy bypass "& { &'C:/Windows/Temp/script.ps1'; exit $LastExitCode }"`},
		{KindScript, "Write-Output 'hello'\n"},
		{KindCommand, "shutdown /r /t 0"},
		{KindRestart, ""},
		{KindBoot, ""},
	}
	if len(events) != len(want) {
		t.Fatalf("log = %s", kinds(events))
	}
	var prev time.Time
	for i, w := range want {
		e := events[i]
		if e.Kind != w.kind || w.text != "" && e.Text != w.text {
			t.Errorf("event %d = %s %q, want %s %q", i, e.Kind, e.Text, w.kind, w.text)
		}
		at, err := time.Parse(time.RFC3339Nano, e.Time)
		if err != nil {
			t.Errorf("event %d time: %v", i, err)
		}
		if at.Before(prev) {
			t.Errorf("event %d at %s, before the previous one (%s)", i, at, prev)
		}
		prev = at
	}
	if e := events[3]; e.Path != `C:\Windows\Temp\script.ps1` || *e.Size != 21 || len(e.SHA256) != 64 {
		t.Errorf("file event = %+v", e)
	}
	if e := events[2]; e.User != admin || e.Exit == nil || *e.Exit != 0 {
		t.Errorf("command event = %+v", e)
	}
}

package windowsrestart

import (
	"github.com/imgbuild/imgbuild/internal/communicator/winrm"

	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// runRestart prepares c and runs it on f, in synctest's fake time; it
// returns the output, how long the run took and the error.
func runRestart(t *testing.T, f *fakeWindows, c *Config) (string, time.Duration, error) {
	t.Helper()
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	var out bytes.Buffer
	start := time.Now()
	err := c.Provision(context.Background(), &provision.Env{Comm: f, Out: &out})
	return out.String(), time.Since(start), err
}

func TestRestartSequence(t *testing.T) {
	tests := []struct {
		name string
		f    *fakeWindows
		c    Config
		want []string
	}{
		{"restart, then the check once back",
			&fakeWindows{dropAfter: 2 * time.Second, downFor: 30 * time.Second}, Config{},
			[]string{"restart boot=0", "reconnect (refused)", "reconnect (refused)", "reconnect (refused)",
				"reconnect (refused)", "reconnect (refused)", "reconnect (refused)", "reconnect boot=1", "check boot=1"}},
		{"restart command loses the connection",
			&fakeWindows{dropAfter: -1, downFor: 7 * time.Second}, Config{},
			[]string{"restart boot=0", "reconnect (refused)", "reconnect boot=1", "check boot=1"}},
		{"check retried until it exits 0",
			&fakeWindows{downFor: 3 * time.Second, checkFails: 2},
			Config{RestartCommand: "custom-restart", RestartCheckCommand: "custom-check"},
			[]string{"restart boot=0", "reconnect boot=1", "check boot=1", "check boot=1", "check boot=1"}},
		{"shutdown already in progress or scheduled",
			&fakeWindows{restartCodes: []int{1115, 1190}, downFor: 3 * time.Second}, Config{},
			[]string{"restart boot=0", "restart boot=0", "restart boot=0", "reconnect boot=1", "check boot=1"}},
		{"registry check until no key is pending",
			&fakeWindows{downFor: 3 * time.Second, pending: []string{"HKLM:A", "HKLM:A"}},
			Config{CheckRegistry: true, RegistryKeys: []string{"HKLM:A", "HKLM:B"}},
			[]string{"restart boot=0", "reconnect boot=1", "check boot=1", "registry boot=1", "registry boot=1", "registry boot=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				out, _, err := runRestart(t, tt.f, &tt.c)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if !slices.Equal(tt.f.events, tt.want) {
					t.Errorf("events\n%q\nwant\n%q", tt.f.events, tt.want)
				}
				if !strings.HasPrefix(out, "Restarting the instance\n") || !strings.Contains(out, "Waiting for the instance to restart\n") ||
					!strings.Contains(out, "restarted.\n") || !strings.HasSuffix(out, "Instance restarted\n") {
					t.Errorf("output:\n%s", out)
				}
			})
		})
	}
}

// TestRestartTimings checks the pauses: 10s between restart_command
// attempts while a shutdown is under way, 5s before each check.
func TestRestartTimings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeWindows{restartCodes: []int{1190, 1190}, downFor: 3 * time.Second, checkFails: 1}
		out, took, err := runRestart(t, f, &Config{})
		if err != nil {
			t.Fatal(err)
		}
		if want := 2*pendingDelay + 2*checkDelay; took != want {
			t.Errorf("took %s, want %s", took, want)
		}
		if n := strings.Count(out, "A shutdown is already in progress or scheduled (exit status 1190); trying restart_command again in 10s\n"); n != 2 {
			t.Errorf("output says the shutdown is under way %d times, want 2:\n%s", n, out)
		}
	})
}

func TestRegistryCheckScript(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeWindows{downFor: time.Second, pending: []string{"HKLM:SOFTWARE\\x y", "HKLM:SOFTWARE\\x y"}}
		out, _, err := runRestart(t, f, &Config{CheckRegistry: true})
		if err != nil {
			t.Fatal(err)
		}
		op, vars, ok := winrm.ParseToolScript(f.registryBody)
		if want := strings.Join(DefaultRegistryKeys, ";"); !ok || op != winrm.OpRegistryCheck || vars["keys"] != want ||
			!strings.Contains(f.registryBody, "Test-Path -LiteralPath $key") {
			t.Errorf("registry check script:\n%s\nwant tool script %s with $keys = %q", f.registryBody, winrm.OpRegistryCheck, want)
		}
		if n := strings.Count(out, "A restart is still pending (registry keys exist: HKLM:SOFTWARE\\x y); waiting\n"); n != 1 {
			t.Errorf("pending keys said %d times, want once:\n%s", n, out)
		}
	})
}

func TestRestartErrors(t *testing.T) {
	tests := []struct {
		name string
		f    *fakeWindows
		c    Config
		want string
		took time.Duration
	}{
		{"restart_command fails", &fakeWindows{restartCodes: []int{5}}, Config{},
			"restart_command exited with status 5", 0},
		{"shutdown under way until the timeout", &fakeWindows{restartCodes: slices.Repeat([]int{1190}, 100)}, Config{RestartTimeout: "1m"},
			"timed out after restart_timeout 1m waiting for restart_command to be accepted: a shutdown is already in progress or scheduled (exit status 1190)", time.Minute},
		{"instance does not come back", &fakeWindows{downFor: time.Hour}, Config{RestartTimeout: "2m"},
			"timed out after restart_timeout 2m waiting for the instance to come back (restart_check_command): reconnect: connection refused", 2 * time.Minute},
		{"check never succeeds", &fakeWindows{downFor: time.Second, checkFails: 1000}, Config{},
			"timed out after restart_timeout 5m waiting for the instance to come back (restart_check_command): restart_check_command exited with status 1", 5 * time.Minute},
		{"restart stays pending", &fakeWindows{downFor: time.Second, pending: slices.Repeat([]string{"HKLM:A"}, 1000)},
			Config{CheckRegistry: true, RegistryKeys: []string{"HKLM:A"}},
			"timed out after restart_timeout 5m waiting for the pending restart to clear (registry_keys): registry keys exist: HKLM:A", 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, took, err := runRestart(t, tt.f, &tt.c)
				if err == nil || err.Error() != tt.want {
					t.Fatalf("error %v, want %q", err, tt.want)
				}
				if took != tt.took {
					t.Errorf("gave up after %s, want %s", took, tt.took)
				}
			})
		})
	}
}

func TestRestartCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeWindows{downFor: time.Hour}
		c := Config{}
		c.Prepare(&check.Context{})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := c.Provision(ctx, &provision.Env{Comm: f})
		if err == nil || err.Error() != "waiting for the instance to come back (restart_check_command): context deadline exceeded" {
			t.Fatalf("error %v", err)
		}
	})
}

func TestNoCommunicator(t *testing.T) {
	var c Config
	c.Prepare(&check.Context{})
	err := c.Provision(context.Background(), &provision.Env{})
	if err == nil || !strings.Contains(err.Error(), `communicator = "none"`) {
		t.Errorf("error %v, want one about the missing communicator", err)
	}
}

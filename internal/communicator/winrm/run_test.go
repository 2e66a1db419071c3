package winrm_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/testwait"
	"github.com/imgbuild/imgbuild/internal/winguest"
)

func TestRunExitStatusAndOutput(t *testing.T) {
	e := startEnv(t, func(o *winguest.Options) { o.FailGlob, o.FailCode = "*Install-Broken*", 5 })
	c := connect(t, e.opts(t))
	tests := []struct {
		command          string
		status           int
		stdout, stderr   string
		stderrContains   string
		skipStdoutAssert bool
	}{
		{command: "test-exit 0", stdout: "out\r\n", stderr: "err\r\n"},
		{command: "test-exit 3", status: 3, stdout: "out\r\n", stderr: "err\r\n"},
		{command: "echo hello world", stdout: "hello world\r\n"},
		{command: `powershell -command "& {Write-Output 'restarted.'}"`, stdout: "restarted.\r\n"},
		{command: "powershell -Command Install-Broken", status: 5, stderrContains: "fail glob"},
		{command: "choco install git", stdout: ""},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			status, out, errOut := run(t, c, tt.command)
			if status != tt.status {
				t.Errorf("status = %d, want %d", status, tt.status)
			}
			if out != tt.stdout {
				t.Errorf("stdout = %q, want %q", out, tt.stdout)
			}
			if tt.stderrContains != "" {
				if !bytes.Contains([]byte(errOut), []byte(tt.stderrContains)) {
					t.Errorf("stderr = %q, want it to contain %q", errOut, tt.stderrContains)
				}
			} else if errOut != tt.stderr {
				t.Errorf("stderr = %q, want %q", errOut, tt.stderr)
			}
		})
	}
}

func TestRunStreamsOutput(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	out := testwait.NewSignalWriter("one\r\n")
	done := make(chan error, 1)
	go func() {
		status, err := c.Run(context.Background(), &provision.Cmd{Command: "test-stream", Stdout: out})
		if err == nil && status != 0 {
			err = errors.New("non-zero status")
		}
		done <- err
	}()
	// The command prints "two" only once the test has seen "one": Run
	// must pass output on while the command runs.
	testwait.Wait(t, out.Seen(), `"one" before the command ends`)
	close(e.exec.release)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := out.String(); got != "one\r\ntwo\r\n" {
		t.Errorf("stdout = %q", got)
	}
}

func TestRunStdin(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	in := make([]byte, 200<<10)
	rand.Read(in)
	var out bytes.Buffer
	status, err := c.Run(context.Background(), &provision.Cmd{Command: "test-cat", Stdin: bytes.NewReader(in), Stdout: &out})
	if err != nil || status != 0 {
		t.Fatalf("Run = %d, %v", status, err)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Errorf("stdout has %d bytes, not the %d bytes of stdin", out.Len(), len(in))
	}
}

func TestRunCancelTerminatesCommand(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, &provision.Cmd{Command: "test-block"})
		done <- err
	}()
	testwait.Wait(t, e.exec.blocked, "the command to start")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
		if errors.Is(err, winrm.ErrDisconnected) {
			t.Errorf("Run = %v: a cancellation is not a lost connection", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	testwait.Eventually(t, "the remote command to be cancelled", func() bool { return e.exec.cancelledCount() == 1 })
}

func TestRunDisconnected(t *testing.T) {
	e := startEnv(t, nil)
	c := connect(t, e.opts(t))
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(context.Background(), &provision.Cmd{Command: "test-block"})
		done <- err
	}()
	testwait.Wait(t, e.exec.blocked, "the command to start")
	e.server.Close() // the instance goes away
	select {
	case err := <-done:
		t.Logf("error: %v", err)
		if !errors.Is(err, winrm.ErrDisconnected) {
			t.Errorf("Run = %v, want ErrDisconnected", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the server closed")
	}
	if _, err := c.Run(context.Background(), &provision.Cmd{Command: "echo x"}); !errors.Is(err, winrm.ErrDisconnected) {
		t.Errorf("Run on a gone server = %v, want ErrDisconnected", err)
	}
}

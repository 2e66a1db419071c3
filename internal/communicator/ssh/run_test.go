package ssh

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/testwait"
)

// startConnected starts a test server and connects a client to it.
func startConnected(t *testing.T, opts serverOpts) (*testServer, *Client) {
	signer := newSigner(t)
	opts.authorized = append(opts.authorized, signer.PublicKey())
	s := startServer(t, opts)
	return s, connect(t, s.clientOpts(signer))
}

func TestRunExitStatusAndOutput(t *testing.T) {
	_, c := startConnected(t, serverOpts{})
	tests := []struct {
		name       string
		cmd        Cmd
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{name: "success", cmd: Cmd{Command: "echo hello"}, wantOut: "hello\n"},
		{name: "exit 3 is a status, not an error", cmd: Cmd{Command: "echo out; echo err >&2; exit 3"}, wantStatus: 3, wantOut: "out\n", wantErr: "err\n"},
		{name: "stdin", cmd: Cmd{Command: "tr a-z A-Z", Stdin: strings.NewReader("shout")}, wantOut: "SHOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			tt.cmd.Stdout, tt.cmd.Stderr = &out, &errOut
			status, err := c.Run(context.Background(), tt.cmd)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if status != tt.wantStatus || out.String() != tt.wantOut || errOut.String() != tt.wantErr {
				t.Errorf("got status %d stdout %q stderr %q, want %d %q %q",
					status, out.String(), errOut.String(), tt.wantStatus, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestRunStreamsOutput(t *testing.T) {
	s, c := startConnected(t, serverOpts{})
	out := testwait.NewSignalWriter("first\n")
	result := make(chan error, 1)
	go func() {
		// "second" is printed only once the test has seen "first", so
		// this finishes only if output is streamed while the command runs.
		_, err := c.Run(context.Background(), Cmd{
			Command: "echo first; while [ ! -e go ]; do sleep 0.01; done; echo second",
			Stdout:  out,
		})
		result <- err
	}()
	testwait.Wait(t, out.Seen(), "first line of output")
	writeFile(t, filepath.Join(s.dir, "go"), "", 0o644)
	if err := <-result; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := out.String(); got != "first\nsecond\n" {
		t.Errorf("stdout = %q", got)
	}
}

func TestRunCancelKillsCommand(t *testing.T) {
	s, c := startConnected(t, serverOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := testwait.NewSignalWriter("started\n")
	go func() {
		<-out.Seen()
		cancel()
	}()
	status, err := c.Run(ctx, Cmd{Command: "echo $$ > pid; echo started; exec sleep 60", Stdout: out})
	if !errors.Is(err, context.Canceled) || status != -1 {
		t.Fatalf("Run = %d, %v; want -1 and context.Canceled", status, err)
	}
	if got := s.receivedSignals(); !slices.Contains(got, "KILL") {
		t.Errorf("server received signals %v, want KILL", got)
	}
	raw, err := os.ReadFile(filepath.Join(s.dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, "the remote command to die", func() bool {
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	})
	// The connection survives a cancelled command.
	if _, got, _ := run(t, c, "echo still here"); got != "still here\n" {
		t.Errorf("after cancel: stdout = %q", got)
	}
}

func TestRunDisconnectMidCommand(t *testing.T) {
	s, c := startConnected(t, serverOpts{})
	out := testwait.NewSignalWriter("started\n")
	go func() {
		<-out.Seen()
		s.dropAll()
	}()
	status, err := c.Run(context.Background(), Cmd{Command: "echo started; exec sleep 60", Stdout: out})
	if !errors.Is(err, ErrDisconnected) || status != -1 {
		t.Fatalf("Run = %d, %v; want -1 and ErrDisconnected", status, err)
	}
	// Later operations on the dead connection say so too.
	if _, err := c.Run(context.Background(), Cmd{Command: "true"}); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Run on a dropped connection: %v, want ErrDisconnected", err)
	}
}

func TestRunAfterClose(t *testing.T) {
	_, c := startConnected(t, serverOpts{})
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Run(context.Background(), Cmd{Command: "true"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	if err := c.Reconnect(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Reconnect after Close: %v, want ErrClosed", err)
	}
}

func TestReconnectAfterReboot(t *testing.T) {
	signer := newSigner(t)
	s := startServer(t, serverOpts{authorized: []gossh.PublicKey{signer.PublicKey()}})
	logger, refused := testwait.LogSignal(t, "ssh connect attempt failed")
	opts := s.clientOpts(signer)
	opts.Logger = logger
	c := connect(t, opts)

	s.stop() // "reboot": connections dropped, nothing listening
	if _, err := c.Run(context.Background(), Cmd{Command: "true"}); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Run during reboot: %v, want ErrDisconnected", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		<-refused // come back only after Reconnect has been refused once
		if err := s.listen(s.port); err != nil {
			t.Error(err)
		}
	})
	if err := c.Reconnect(context.Background()); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if _, out, _ := run(t, c, "echo back"); out != "back\n" {
		t.Errorf("stdout after reconnect = %q", out)
	}
}

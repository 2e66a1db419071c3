package wsman

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masterzen/winrm"
)

const (
	testUser     = "Administrator"
	testPassword = "Passw0rd!"
)

// execFunc adapts a function to Executor.
type execFunc func(ctx context.Context, cmd *Command) int

func (f execFunc) Exec(ctx context.Context, cmd *Command) int { return f(ctx, cmd) }

// startServer serves exec on loopback HTTP and HTTPS ports until the test ends.
func startServer(t *testing.T, exec Executor) *Server {
	t.Helper()
	srv := NewServer(Options{Exec: exec, Password: testAccounts})
	listen(t, srv, "127.0.0.1:0", "127.0.0.1:0")
	return srv
}

func testAccounts(user string) (string, bool) {
	if strings.EqualFold(user, testUser) {
		return testPassword, true
	}
	return "", false
}

func listen(t *testing.T, srv *Server, httpAddr, httpsAddr string) {
	t.Helper()
	cert, err := SelfSigned("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(httpAddr, httpsAddr, cert); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
}

// transport is one way a client reaches the server.
type transport struct {
	name  string
	https bool
	ntlm  bool
}

var transports = []transport{
	{"basic-http", false, false},
	{"basic-https", true, false},
	{"ntlm-http", false, true},
	{"ntlm-https", true, true},
}

// newClient returns a masterzen/winrm client for srv with the given
// OperationTimeout.
func newClient(t *testing.T, srv *Server, tr transport, user, password, timeout string) *winrm.Client {
	t.Helper()
	httpAddr, httpsAddr := srv.Addrs()
	addr := httpAddr
	if tr.https {
		addr = httpsAddr
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	params := winrm.NewParameters(timeout, "en-US", 153600)
	if tr.ntlm {
		params.TransportDecorator = func() winrm.Transporter { return &winrm.ClientNTLM{} }
	}
	endpoint := winrm.NewEndpoint(host, port, tr.https, true, nil, nil, nil, 10*time.Second)
	client, err := winrm.NewClientWithParameters(endpoint, user, password, params)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// within fails the test if f does not return within d.
func within[T any](t *testing.T, d time.Duration, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("%s: no answer within %s", what, d)
		panic("unreachable")
	}
}

func TestRunOverEachTransport(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			var got Command
			srv := startServer(t, execFunc(func(ctx context.Context, cmd *Command) int {
				in, _ := io.ReadAll(cmd.Stdin)
				got = Command{Line: cmd.Line, User: cmd.User}
				fmt.Fprintf(cmd.Stdout, "stdin was %q\n", in)
				fmt.Fprintf(cmd.Stderr, "warning\n")
				return 3
			}))
			client := newClient(t, srv, tr, testUser, testPassword, "PT2S")
			var stdout, stderr bytes.Buffer
			stdin := strings.NewReader("hello\r\nworld")
			exit, err := client.RunWithInput(`echo "a & b" <x>`, &stdout, &stderr, stdin)
			if err != nil {
				t.Fatal(err)
			}
			if exit != 3 {
				t.Errorf("exit code %d, want 3", exit)
			}
			if want := "stdin was \"hello\\r\\nworld\"\n"; stdout.String() != want {
				t.Errorf("stdout %q, want %q", stdout.String(), want)
			}
			if stderr.String() != "warning\n" {
				t.Errorf("stderr %q, want %q", stderr.String(), "warning\n")
			}
			if want := (Command{Line: `echo "a & b" <x>`, User: testUser}); got != want {
				t.Errorf("executor got %+v, want %+v", got, want)
			}
		})
	}
}

func TestArgumentsJoinIntoLine(t *testing.T) {
	lines := make(chan string, 1)
	srv := startServer(t, execFunc(func(ctx context.Context, cmd *Command) int {
		lines <- cmd.Line
		return 0
	}))
	client := newClient(t, srv, transports[0], testUser, testPassword, "PT2S")
	shell, err := client.CreateShell()
	if err != nil {
		t.Fatal(err)
	}
	defer shell.Close()
	cmd, err := shell.Execute("ping", "-n", "1", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if got, want := <-lines, "ping -n 1 127.0.0.1"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
}

// TestOutputIsStreamed holds the executor after its first write until the
// client has read that write: if the server only sent output at the end,
// the client would never see it and the test would time out.
func TestOutputIsStreamed(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, execFunc(func(ctx context.Context, cmd *Command) int {
		fmt.Fprint(cmd.Stdout, "first\n")
		select {
		case <-release:
		case <-ctx.Done():
			return 1
		}
		fmt.Fprint(cmd.Stdout, "second\n")
		return 0
	}))
	client := newClient(t, srv, transports[0], testUser, testPassword, "PT2S")
	shell, err := client.CreateShell()
	if err != nil {
		t.Fatal(err)
	}
	defer shell.Close()
	cmd, err := shell.Execute("stream")
	if err != nil {
		t.Fatal(err)
	}
	defer cmd.Close()
	first := within(t, 3*time.Second, "first chunk", func() string {
		buf := make([]byte, 6)
		n, _ := io.ReadFull(cmd.Stdout, buf)
		return string(buf[:n])
	})
	if first != "first\n" {
		t.Fatalf("first chunk %q", first)
	}
	close(release)
	rest := within(t, 3*time.Second, "rest", func() string {
		b, _ := io.ReadAll(cmd.Stdout)
		return string(b)
	})
	cmd.Wait()
	if rest != "second\n" || cmd.ExitCode() != 0 {
		t.Errorf("rest %q exit %d, want %q exit 0", rest, cmd.ExitCode(), "second\n")
	}
}

// TestCommandOutlastsOperationTimeout runs a command silent for several
// OperationTimeouts: the client gets the timeout fault, polls again and
// still gets the result.
func TestCommandOutlastsOperationTimeout(t *testing.T) {
	srv := startServer(t, execFunc(func(ctx context.Context, cmd *Command) int {
		time.Sleep(700 * time.Millisecond)
		fmt.Fprint(cmd.Stdout, "late")
		return 5
	}))
	client := newClient(t, srv, transports[2], testUser, testPassword, "PT0.2S")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	exit, err := client.Run("slow", &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if exit != 5 || stdout.String() != "late" {
		t.Errorf("exit %d stdout %q, want 5 %q", exit, stdout.String(), "late")
	}
	if time.Since(start) < 700*time.Millisecond {
		t.Errorf("returned before the command finished")
	}
}

func TestWrongCredentialsFailAtOnce(t *testing.T) {
	for _, tr := range []transport{transports[0], transports[2], transports[3]} {
		for _, creds := range [][2]string{{testUser, "wrong"}, {"nobody", testPassword}} {
			t.Run(tr.name+"/"+creds[0], func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				var failed []string
				srv := NewServer(Options{
					Exec:     execFunc(func(context.Context, *Command) int { return 0 }),
					Password: testAccounts,
					AuthFailed: func(user string) {
						mu.Lock()
						defer mu.Unlock()
						failed = append(failed, user)
					},
				})
				listen(t, srv, "127.0.0.1:0", "127.0.0.1:0")
				client := newClient(t, srv, tr, creds[0], creds[1], "PT2S")
				err := within(t, 3*time.Second, "create shell", func() error {
					_, err := client.CreateShell()
					return err
				})
				if err == nil || !strings.Contains(err.Error(), "401") {
					t.Fatalf("error %v, want an HTTP 401 error", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if len(failed) != 1 || failed[0] != creds[0] {
					t.Errorf("AuthFailed calls %q, want [%q]", failed, creds[0])
				}
			})
		}
	}
}

// TestCancel checks that a terminate signal and a shell delete cancel the
// running command's context.
func TestCancel(t *testing.T) {
	for name, stop := range map[string]func(*winrm.Shell, *winrm.Command) error{
		"signal terminate": func(_ *winrm.Shell, c *winrm.Command) error { return c.Close() },
		"delete shell":     func(s *winrm.Shell, _ *winrm.Command) error { return s.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			started, cancelled := make(chan struct{}), make(chan struct{})
			srv := startServer(t, execFunc(func(ctx context.Context, cmd *Command) int {
				close(started)
				<-ctx.Done()
				close(cancelled)
				return 1
			}))
			client := newClient(t, srv, transports[2], testUser, testPassword, "PT2S")
			shell, err := client.CreateShell()
			if err != nil {
				t.Fatal(err)
			}
			cmd, err := shell.Execute("wait")
			if err != nil {
				t.Fatal(err)
			}
			within(t, 3*time.Second, "start", func() struct{} { <-started; return struct{}{} })
			if err := stop(shell, cmd); err != nil {
				t.Fatal(err)
			}
			within(t, 3*time.Second, "cancel", func() struct{} { <-cancelled; return struct{}{} })
		})
	}
}

// TestCloseDropsCommandsAndFreesPorts closes the server under a running
// command, then listens on the same ports with a new server, as the
// simulated guest does across a restart.
func TestCloseDropsCommandsAndFreesPorts(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	srv := startServer(t, execFunc(func(ctx context.Context, cmd *Command) int {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return 0
	}))
	client := newClient(t, srv, transports[2], testUser, testPassword, "PT2S")
	result := make(chan error, 1)
	go func() {
		_, err := client.Run("wait", io.Discard, io.Discard)
		result <- err
	}()
	within(t, 3*time.Second, "start", func() struct{} { <-started; return struct{}{} })
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	within(t, 3*time.Second, "cancel", func() struct{} { <-cancelled; return struct{}{} })
	if err := within(t, 3*time.Second, "client", func() error { return <-result }); err == nil {
		t.Error("client saw no error from a command the server dropped")
	}

	httpAddr, httpsAddr := srv.Addrs()
	again := NewServer(Options{Exec: execFunc(func(ctx context.Context, cmd *Command) int {
		fmt.Fprint(cmd.Stdout, "back")
		return 0
	}), Password: testAccounts})
	listen(t, again, httpAddr, httpsAddr)
	for _, tr := range []transport{transports[2], transports[1]} {
		var stdout bytes.Buffer
		if _, err := newClient(t, again, tr, testUser, testPassword, "PT2S").Run("x", &stdout, io.Discard); err != nil || stdout.String() != "back" {
			t.Errorf("%s after restart: stdout %q, error %v", tr.name, stdout.String(), err)
		}
	}
}

func TestListenFailsOnBusyPort(t *testing.T) {
	busy := startServer(t, execFunc(func(context.Context, *Command) int { return 0 }))
	_, httpsAddr := busy.Addrs()
	srv := NewServer(Options{Exec: execFunc(func(context.Context, *Command) int { return 0 })})
	defer srv.Close()
	cert, err := SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()
	if err := srv.Listen(freeAddr, httpsAddr, cert); err == nil {
		t.Fatal("listen on a busy port succeeded")
	}
	// The HTTP listener opened before the failure is closed again.
	ln, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Fatalf("port %s still held after a failed Listen: %v", freeAddr, err)
	}
	ln.Close()
}

package winrm_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/winguest"
	"github.com/imgbuild/imgbuild/internal/wsman"
)

const (
	testUser     = "Administrator"
	testPassword = "S3cret-Pa55!"
)

// env is a simulated Windows guest served by a WS-Management server on
// loopback, with a few test-only commands (see testExec).
type env struct {
	guest  *winguest.Machine
	disk   string
	exec   *testExec
	server *wsman.Server
	http   int // port
	https  int
}

// newGuest makes a stopped simulated Windows machine with a temporary
// disk and log.
func newGuest(t *testing.T, edit func(*winguest.Options)) (*winguest.Machine, winguest.Options) {
	t.Helper()
	dir := t.TempDir()
	opts := winguest.Options{
		Disk:       filepath.Join(dir, "disk"),
		InstanceID: "i-0123456789abcdef0",
		Hostname:   "EC2AMAZ-TEST",
		IP:         "127.0.0.1",
		Log:        filepath.Join(dir, "guest.log"),
		Accounts:   map[string]string{testUser: testPassword},
		Logger:     testLogger(t),
	}
	if edit != nil {
		edit(&opts)
	}
	g, err := winguest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	return g, opts
}

// startEnv serves a guest (not booted: its commands are answered
// directly) through a wsman server on loopback ports.
func startEnv(t *testing.T, edit func(*winguest.Options)) *env {
	t.Helper()
	g, opts := newGuest(t, edit)
	e := &env{guest: g, disk: opts.Disk, exec: &testExec{guest: g, blocked: make(chan struct{}, 10), release: make(chan struct{})}}
	e.server = wsman.NewServer(wsman.Options{Exec: e.exec, Password: g.Password})
	cert, err := wsman.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.server.Listen("127.0.0.1:0", "127.0.0.1:0", cert); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.server.Close() })
	httpAddr, httpsAddr := e.server.Addrs()
	e.http, e.https = port(t, httpAddr), port(t, httpsAddr)
	return e
}

// opts returns client options for the env's HTTP endpoint.
func (e *env) opts(t *testing.T) winrm.Options {
	return winrm.Options{Host: "127.0.0.1", Port: e.http, User: testUser, Password: testPassword, Timeout: 20 * time.Second, Logger: testLogger(t)}
}

// connect connects with opts and closes the client when the test ends.
func connect(t *testing.T, opts winrm.Options) *winrm.Client {
	t.Helper()
	c, err := winrm.Connect(context.Background(), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run runs command and fails the test on a transport error.
func run(t *testing.T, c *winrm.Client, command string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status, err := c.Run(context.Background(), &provision.Cmd{Command: command, Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatalf("Run(%q): %v", command, err)
	}
	return status, out.String(), errOut.String()
}

// testExec answers a few test commands itself and passes the rest to the
// guest:
//
//	test-exit N   prints "out" and "err" lines, exits N
//	test-cat      copies stdin to stdout
//	test-stream   prints "one", waits for release, prints "two"
//	test-block    signals blocked, waits until cancelled
type testExec struct {
	guest     *winguest.Machine
	blocked   chan struct{}
	release   chan struct{}
	mu        sync.Mutex
	cancelled int
}

func (x *testExec) Exec(ctx context.Context, cmd *wsman.Command) int {
	switch {
	case strings.HasPrefix(cmd.Line, "test-exit "):
		fmt.Fprint(cmd.Stdout, "out\r\n")
		fmt.Fprint(cmd.Stderr, "err\r\n")
		n, _ := strconv.Atoi(strings.TrimPrefix(cmd.Line, "test-exit "))
		return n
	case cmd.Line == "test-cat":
		io.Copy(cmd.Stdout, cmd.Stdin)
		return 0
	case cmd.Line == "test-stream":
		fmt.Fprint(cmd.Stdout, "one\r\n")
		select {
		case <-x.release:
		case <-ctx.Done():
			return 1
		}
		fmt.Fprint(cmd.Stdout, "two\r\n")
		return 0
	case cmd.Line == "test-block":
		x.blocked <- struct{}{}
		<-ctx.Done()
		x.mu.Lock()
		x.cancelled++
		x.mu.Unlock()
		return 1
	}
	return x.guest.Exec(ctx, cmd)
}

func (x *testExec) cancelledCount() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.cancelled
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testLogger logs at debug level to the test log.
func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: writerFunc(func(p []byte) (int, error) {
		t.Logf("log: %s", bytes.TrimSpace(p))
		return len(p), nil
	})})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// readDisk returns the content of a Windows path's file on the guest disk,
// e.g. C:\Windows\Temp\a -> <disk>/c/Windows/Temp/a.
func readDisk(t *testing.T, disk, winPath string) []byte {
	t.Helper()
	b, err := os.ReadFile(diskPath(disk, winPath))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func diskPath(disk, winPath string) string {
	p := strings.ReplaceAll(winPath, `\`, "/")
	drive, rest, _ := strings.Cut(p, ":")
	return filepath.Join(disk, strings.ToLower(drive), filepath.FromSlash(rest))
}

// events returns the guest log's events of a kind.
func events(t *testing.T, g *winguest.Machine, kind string) []winguest.Event {
	t.Helper()
	all, err := winguest.ReadLog(g.LogPath())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []winguest.Event
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

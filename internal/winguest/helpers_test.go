package winguest

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	mwinrm "github.com/masterzen/winrm"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/wsman"
)

const (
	admin   = "Administrator"
	adminPW = "Adm1n-Secret!"
)

// newMachine makes a stopped machine with a temporary disk and log.
func newMachine(t *testing.T, edit func(*Options)) *Machine {
	t.Helper()
	dir := t.TempDir()
	opts := Options{
		Disk:       filepath.Join(dir, "disk"),
		InstanceID: "i-0123456789abcdef0",
		Hostname:   "EC2AMAZ-TEST",
		IP:         "127.0.0.1",
		Log:        filepath.Join(dir, "guest.log"),
		Accounts:   map[string]string{admin: adminPW},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: writerFunc(func(p []byte) (int, error) {
			t.Logf("log: %s", bytes.TrimSpace(p))
			return len(p), nil
		})}),
	}
	if edit != nil {
		edit(&opts)
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop() })
	return m
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// result is what one command answered.
type result struct {
	code           int
	stdout, stderr string
}

// exec runs a command line on m as user, without the network.
func exec(t *testing.T, m *Machine, user, line string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := m.Exec(context.Background(), &wsman.Command{Line: line, User: user, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return result{code, out.String(), errOut.String()}
}

// encoded is what imgbuild sends for a PowerShell script.
func encoded(script string) string { return mwinrm.Powershell(script) }

// tool is an encoded tool script with a body that the guest ignores.
func tool(op string, vars ...winrm.Var) string {
	return encoded(winrm.ToolScript(op, vars...) + "$ErrorActionPreference = 'Stop'\nexit 0\n")
}

// writeDisk writes a file on a layer directory at a Windows path.
func writeDisk(t *testing.T, layer, winPath, content string) {
	t.Helper()
	p, err := resolvePath(winPath, admin)
	if err != nil {
		t.Fatal(err)
	}
	host := p.under(layer)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(host, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readLog returns the guest log's events.
func readLog(t *testing.T, m *Machine) []Event {
	t.Helper()
	events, err := ReadLog(m.LogPath())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return events
}

// kinds returns the kinds of events, in order.
func kinds(events []Event) string {
	var k []string
	for _, e := range events {
		k = append(k, e.Kind)
	}
	return strings.Join(k, " ")
}

// listens reports whether something accepts connections on 127.0.0.1:port.
func listens(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

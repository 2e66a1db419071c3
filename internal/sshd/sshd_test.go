package sshd_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/sshd"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

func newKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func dial(addr, user string, key ssh.Signer, host ssh.PublicKey) (*ssh.Client, error) {
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.FixedHostKey(host),
		Timeout:         5 * time.Second,
	})
}

func run(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("run %q: %v: %s", cmd, err, out)
	}
	return string(out)
}

func loginName(t *testing.T) []string {
	if os.Geteuid() == 0 {
		if err := sshd.EnsureAccounts(sshd.LoginNames...); err != nil {
			t.Fatal(err)
		}
		return sshd.LoginNames
	}
	return []string{os.Getenv("USER")}
}

func TestServerRunsSessionsUnprivilegedInHome(t *testing.T) {
	testenv.Require(t, testenv.SSHD)
	names := loginName(t)
	key := newKey(t)
	srv, err := sshd.Start(context.Background(), sshd.Config{
		Addr: freeAddr(t), AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}, Logger: testenv.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c, err := dial(srv.Addr(), name, key, srv.HostKey())
			if err != nil {
				t.Fatalf("login as %s: %v", name, err)
			}
			defer c.Close()
			out := strings.Fields(run(t, c, `id -u; pwd; echo "$HOME"`))
			if len(out) != 3 {
				t.Fatalf("unexpected output %q", out)
			}
			if os.Geteuid() == 0 && out[0] == "0" {
				t.Errorf("login %s ran commands as root", name)
			}
			if out[1] != srv.Home() || out[2] != srv.Home() {
				t.Errorf("cwd %s, HOME %s; want both %s", out[1], out[2], srv.Home())
			}
		})
	}
	t.Run("sftp", func(t *testing.T) {
		c, err := dial(srv.Addr(), names[0], key, srv.HostKey())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fc, err := sftp.NewClient(c)
		if err != nil {
			t.Fatal(err)
		}
		defer fc.Close()
		f, err := fc.Create("hello.txt")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(f, "hi there\n"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := run(t, c, "cat hello.txt"); got != "hi there\n" {
			t.Errorf("file written over sftp reads %q", got)
		}
		b, err := os.ReadFile(filepath.Join(srv.Home(), "hello.txt"))
		if err != nil || string(b) != "hi there\n" {
			t.Errorf("file in home: %q, %v", b, err)
		}
	})
	t.Run("other key refused", func(t *testing.T) {
		if _, err := dial(srv.Addr(), names[0], newKey(t), srv.HostKey()); err == nil {
			t.Error("login with an unknown key succeeded")
		}
	})
}

func TestStopKillsServerAndSessions(t *testing.T) {
	testenv.Require(t, testenv.SSHD)
	names := loginName(t)
	key := newKey(t)
	srv, err := sshd.Start(context.Background(), sshd.Config{
		Addr: freeAddr(t), AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}, Logger: testenv.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dial(srv.Addr(), names[0], key, srv.HostKey())
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := s.StdoutPipe()
	if err := s.Start("echo $$; sleep 300"); err != nil {
		t.Fatal(err)
	}
	var buf [32]byte
	n, _ := out.Read(buf[:])
	sleeper, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("read session pid: %v (%q)", err, buf[:n])
	}
	pid := srv.PID()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{pid, sleeper} {
		if sshd.ProcessAlive(p) {
			t.Errorf("process %d still running after Stop", p)
		}
	}
	if _, err := os.Stat(srv.Dir()); !os.IsNotExist(err) {
		t.Errorf("directory %s left behind: %v", srv.Dir(), err)
	}
	if _, err := dial(srv.Addr(), names[0], key, srv.HostKey()); err == nil {
		t.Error("server still accepts logins after Stop")
	}
}

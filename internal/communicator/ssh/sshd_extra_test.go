package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// TestRealSSHDTunnelsAndAgent runs against OpenSSH's sshd: a remote
// tunnel (ssh -R) and a local tunnel (ssh -L) reach a loopback echo
// server and close with the connection, and the local agent is forwarded
// to commands unless ForwardAgent is off.
func TestRealSSHDTunnelsAndAgent(t *testing.T) {
	clientKey := newSigner(t)
	port, hostKey := startSSHD(t, clientKey.PublicKey())
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Host: "127.0.0.1", Port: port, User: me.Username, Signers: []gossh.Signer{clientKey},
		Timeout: 20 * time.Second, HostKeyCallback: gossh.FixedHostKey(hostKey),
	}
	echo := startEcho(t)

	t.Run("tunnels", func(t *testing.T) {
		localPort, remotePort := freeLocalPort(t), freeLocalPort(t)
		o := opts
		o.LocalTunnels = []Tunnel{{Port: localPort, Forward: echo}}
		o.RemoteTunnels = []Tunnel{{Port: remotePort, Forward: echo}}
		c, err := Connect(context.Background(), o)
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		local := net.JoinHostPort("localhost", strconv.Itoa(localPort))
		if got, err := roundTrip(local, "L"); err != nil || got != "echo:L" {
			t.Errorf("local tunnel: %q, %v; want echo:L", got, err)
		}
		// The remote end listens on the instance: ask the instance to use it.
		cmd := "exec 3<>/dev/tcp/127.0.0.1/" + strconv.Itoa(remotePort) + " && printf R >&3 && cat <&3"
		if status, out, _ := run(t, c, "bash -c '"+cmd+"'"); status != 0 || out != "echo:R" {
			t.Errorf("remote tunnel from the instance: status %d stdout %q, want echo:R", status, out)
		}
		c.Close()
		if _, err := net.DialTimeout("tcp", local, time.Second); err == nil {
			t.Error("the local tunnel still listens after Close")
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(remotePort)), time.Second)
			if err != nil {
				break
			}
			conn.Close()
			if time.Now().After(deadline) {
				t.Error("sshd still listens on the remote tunnel's port after Close")
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("agent forwarding", func(t *testing.T) {
		keyring := agent.NewKeyring()
		_, agentKey := newAgentKey(t)
		if err := keyring.Add(agent.AddedKey{PrivateKey: agentKey, Comment: "forwarded-key"}); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(t.TempDir(), "agent.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { agent.ServeAgent(keyring, c); c.Close() }()
			}
		}()
		t.Cleanup(func() { ln.Close() })
		t.Setenv("SSH_AUTH_SOCK", sock)

		// ssh-add -L lists the forwarded agent's keys with their comments.
		const list = `test -n "$SSH_AUTH_SOCK" && ssh-add -L || echo no agent`
		o := opts
		o.ForwardAgent = true
		c := connect(t, o)
		if _, out, errOut := run(t, c, list); !strings.Contains(out, "forwarded-key") {
			t.Errorf("with ForwardAgent the command prints %q (stderr %q), want the agent's key", out, errOut)
		}
		o.ForwardAgent = false
		c = connect(t, o)
		if _, out, errOut := run(t, c, list); strings.TrimSpace(out) != "no agent" {
			t.Errorf("without ForwardAgent the command prints %q (stderr %q), want no agent", out, errOut)
		}
	})
}

func newAgentKey(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/imgbuild/imgbuild/internal/testwait"
)

func TestConnectAuth(t *testing.T) {
	good, wrong := newSigner(t), newSigner(t)
	s := startServer(t, serverOpts{password: "s3cret-pw", authorized: []gossh.PublicKey{good.PublicKey()}})
	tests := []struct {
		name     string
		signer   gossh.Signer
		password string
		wantErr  []string // substrings of the error; nil means success
	}{
		{name: "public key", signer: good},
		{name: "password", password: "s3cret-pw"},
		{name: "wrong key", signer: wrong, wantErr: []string{"3 failed handshakes", "unable to authenticate", "tester@127.0.0.1:"}},
		{name: "wrong password", password: "not-the-pw", wantErr: []string{"3 failed handshakes", "unable to authenticate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.conns.Load()
			opts := s.clientOpts(tt.signer)
			opts.Password, opts.HandshakeAttempts = tt.password, 3
			c, err := Connect(context.Background(), opts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer c.Close()
				if _, out, _ := run(t, c, "echo ok"); out != "ok\n" {
					t.Errorf("stdout = %q, want ok", out)
				}
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("Connect succeeded, want an authentication error")
			}
			t.Logf("error: %v", err)
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q reveals the password", err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %q: gave up on the deadline, want after 3 handshakes", err)
			}
			if got := s.conns.Load() - before; got != 3 {
				t.Errorf("server saw %d connections, want 3 (HandshakeAttempts)", got)
			}
		})
	}
}

func TestConnectRetriesUntilServerAppears(t *testing.T) {
	signer := newSigner(t)
	s := newServer(t, serverOpts{authorized: []gossh.PublicKey{signer.PublicKey()}})
	s.port = testwait.FreePort(t)
	logger, failed := testwait.LogSignal(t, "ssh connect attempt failed")
	opts := s.clientOpts(signer)
	opts.Logger = logger

	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		<-failed // the instance "boots" only after Connect has been refused
		if err := s.listen(s.port); err != nil {
			t.Error(err)
		}
	})
	c, err := Connect(context.Background(), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Close()
	if status, _, _ := run(t, c, "true"); status != 0 {
		t.Errorf("status = %d, want 0", status)
	}
}

func TestConnectGivesUpAtTimeout(t *testing.T) {
	port := testwait.FreePort(t)
	opts := Options{Host: "127.0.0.1", Port: port, User: "tester", Password: "pw", Timeout: 300 * time.Millisecond}
	_, err := Connect(context.Background(), opts)
	if err == nil {
		t.Fatal("Connect succeeded with nothing listening")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not match context.DeadlineExceeded", err)
	}
	for _, want := range []string{fmt.Sprintf("tester@127.0.0.1:%d", port), "gave up after", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestConnectRejectsBadOptions(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	port := testwait.FreePort(t)
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no host", Options{User: "u", Password: "p"}, "host is required"},
		{"no user", Options{Host: "127.0.0.1", Password: "p"}, "user is required"},
		{"bad transfer", Options{Host: "127.0.0.1", User: "u", Password: "p", FileTransfer: "ftp"}, `"ftp" is not sftp or scp`},
		{"no auth", Options{Host: "127.0.0.1", Port: port, User: "u"}, "no authentication method"},
		{"agent without socket", Options{Host: "127.0.0.1", Port: port, User: "u", UseAgent: true}, "SSH_AUTH_SOCK is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Timeout = time.Hour // a retried configuration error would hang
			_, err := Connect(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Connect error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestConnectWithAgent(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			agent.ServeAgent(keyring, conn)
			conn.Close()
		}
	})
	t.Setenv("SSH_AUTH_SOCK", sock)
	signers, _ := keyring.Signers()
	s := startServer(t, serverOpts{authorized: []gossh.PublicKey{signers[0].PublicKey()}})
	opts := s.clientOpts(nil)
	opts.UseAgent = true
	c := connect(t, opts)
	if _, out, _ := run(t, c, "echo agent"); out != "agent\n" {
		t.Errorf("stdout = %q, want agent", out)
	}
}

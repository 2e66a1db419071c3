package ssh

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestCiphersAndKeyExchanges: a server that allows one legacy cipher (or
// key exchange) x/crypto does not offer by default is reached only when
// Options names it.
func TestCiphersAndKeyExchanges(t *testing.T) {
	key := newSigner(t)
	tests := []struct {
		name         string
		server       serverOpts
		ciphers, kex []string
		byDefault    bool // x/crypto offers it anyway
	}{
		{name: "cipher", server: serverOpts{ciphers: []string{"aes128-cbc"}}, ciphers: []string{"aes128-cbc"}},
		{name: "key exchange", server: serverOpts{kex: []string{"diffie-hellman-group1-sha1"}},
			kex: []string{"diffie-hellman-group1-sha1"}},
		{name: "libssh curve25519 name", server: serverOpts{kex: []string{"curve25519-sha256@libssh.org"}},
			kex: []string{"curve25519-sha256@libssh.org"}, byDefault: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.server.authorized = []gossh.PublicKey{key.PublicKey()}
			srv := startServer(t, tt.server)
			opts := srv.clientOpts(key)
			opts.HandshakeAttempts, opts.Timeout = 1, 5*time.Second
			if c, err := Connect(context.Background(), opts); tt.byDefault {
				if err == nil {
					c.Close()
				}
			} else if err == nil {
				c.Close()
				t.Fatal("Connect with the default algorithms succeeded; the server should allow only one")
			} else if !strings.Contains(err.Error(), "no common algorithm") {
				t.Fatalf("Connect with the default algorithms: %v, want no common algorithm", err)
			}
			opts.Ciphers, opts.KeyExchanges = tt.ciphers, tt.kex
			c := connect(t, opts)
			if _, out, _ := run(t, c, "echo negotiated"); out != "negotiated\n" {
				t.Errorf("stdout = %q", out)
			}
		})
	}
}

func TestCheckAlgorithms(t *testing.T) {
	if err := CheckAlgorithms([]string{"aes128-ctr", "chacha20-poly1305@openssh.com", "arcfour", "3des-cbc"},
		[]string{"curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "diffie-hellman-group1-sha1"}); err != nil {
		t.Errorf("names Packer documents as valid: %v", err)
	}
	err := CheckAlgorithms([]string{"aes128-ctr", "blowfish-cbc"}, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown cipher "blowfish-cbc"`) || !strings.Contains(err.Error(), "aes256-gcm@openssh.com") {
		t.Errorf("CheckAlgorithms(blowfish-cbc) = %v, want an error naming it and the supported ciphers", err)
	}
	err = CheckAlgorithms(nil, []string{"diffie-hellman-group99"})
	if err == nil || !strings.Contains(err.Error(), `unknown key exchange algorithm "diffie-hellman-group99"`) {
		t.Errorf("CheckAlgorithms(kex) = %v", err)
	}
	if _, err := Connect(context.Background(), Options{Host: "127.0.0.1", User: "u", Ciphers: []string{"rot13"}}); err == nil || !strings.Contains(err.Error(), "rot13") {
		t.Errorf("Connect with an unknown cipher = %v, want an error before dialling", err)
	}
}

// TestSOCKS5Proxy: the instance is reached through a SOCKS5 proxy with
// username and password authentication; a wrong password fails without
// showing it.
func TestSOCKS5Proxy(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.PublicKey()}})
	proxy := startSOCKS(t, "proxyuser", "s3cret-proxy-pw")

	opts := srv.clientOpts(key)
	opts.Proxy = &Proxy{Host: "127.0.0.1", Port: proxy.port, User: "proxyuser", Password: "s3cret-proxy-pw"}
	c := connect(t, opts)
	if _, out, _ := run(t, c, "echo via proxy"); out != "via proxy\n" {
		t.Errorf("stdout = %q", out)
	}
	if got := proxy.connects.Load(); got != 1 {
		t.Errorf("proxy relayed %d connections, want 1", got)
	}
	if err := c.Reconnect(context.Background()); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if got := proxy.connects.Load(); got != 2 {
		t.Errorf("after Reconnect the proxy relayed %d connections, want 2", got)
	}

	bad := opts
	bad.Proxy = &Proxy{Host: "127.0.0.1", Port: proxy.port, User: "proxyuser", Password: "wrong-pw-123"}
	bad.Timeout = time.Second
	_, err := Connect(context.Background(), bad)
	if err == nil {
		t.Fatal("Connect with a wrong proxy password succeeded")
	}
	if !strings.Contains(err.Error(), "socks5 proxy 127.0.0.1:"+strconv.Itoa(proxy.port)) || strings.Contains(err.Error(), "wrong-pw-123") {
		t.Errorf("error %q should name the proxy and not the password", err)
	}
	if proxy.refused.Load() == 0 {
		t.Error("the proxy refused no authentication")
	}
}

// startEcho runs a loopback server that answers each line with "echo:"
// and the line.
func startEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 256)
				n, _ := c.Read(buf)
				c.Write(append([]byte("echo:"), buf[:n]...))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// roundTrip sends msg to addr and returns the answer.
func roundTrip(addr, msg string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

func freeLocalPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestLocalTunnel: a local tunnel listens here once connected, carries
// connections through the server to a loopback echo server, and is closed
// with the connection.
func TestLocalTunnel(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.PublicKey()}, allowForward: true})
	echo := startEcho(t)
	port := freeLocalPort(t)
	tun, err := ParseTunnel(strconv.Itoa(port) + ":" + echo)
	if err != nil {
		t.Fatal(err)
	}
	opts := srv.clientOpts(key)
	opts.LocalTunnels = []Tunnel{tun}
	c, err := Connect(context.Background(), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	local := net.JoinHostPort("localhost", strconv.Itoa(port))
	before := srv.forwards.Load()
	if got, err := roundTrip(local, "hello"); err != nil || got != "echo:hello" {
		t.Fatalf("through the tunnel: %q, %v; want echo:hello", got, err)
	}
	if srv.forwards.Load() != before+1 {
		t.Errorf("the server forwarded %d connections, want 1", srv.forwards.Load()-before)
	}
	if err := c.Reconnect(context.Background()); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if got, err := roundTrip(local, "again"); err != nil || got != "echo:again" {
		t.Fatalf("through the tunnel after Reconnect: %q, %v", got, err)
	}
	c.Close()
	if _, err := net.DialTimeout("tcp", local, time.Second); err == nil {
		t.Error("the tunnel still listens after Close")
	}
}

func TestParseTunnel(t *testing.T) {
	good := map[string]Tunnel{
		"8080:localhost:3000": {Port: 8080, Forward: "localhost:3000"},
		"9090:10.0.0.5:80":    {Port: 9090, Forward: "10.0.0.5:80"},
		"22:[::1]:22":         {Port: 22, Forward: "[::1]:22"},
	}
	for in, want := range good {
		if got, err := ParseTunnel(in); err != nil || got != want || got.String() != in {
			t.Errorf("ParseTunnel(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"8080", "8080:localhost", "x:localhost:80", "0:localhost:80", "8080:localhost:http",
		"8080::80", "127.0.0.1:8080:localhost:80", "8080:localhost:70000"} {
		if got, err := ParseTunnel(in); err == nil {
			t.Errorf("ParseTunnel(%q) = %+v, want an error", in, got)
		}
	}
}

// TestReadWriteTimeout: with ReadWriteTimeout a command that keeps the
// connection silent for longer fails with ErrDisconnected when the
// deadline passes; the client then reconnects.
func TestReadWriteTimeout(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.PublicKey()}})
	opts := srv.clientOpts(key)
	opts.KeepAliveInterval = -1 // nothing else moves on the connection
	opts.ReadWriteTimeout = 400 * time.Millisecond
	c := connect(t, opts)
	start := time.Now()
	_, err := c.Run(context.Background(), Cmd{Command: "sleep 3"})
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Run(sleep 3) = %v, want ErrDisconnected", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run returned after %s, want about the 400ms deadline", d)
	}
	if err := c.Reconnect(context.Background()); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if status, out, _ := run(t, c, "echo ok"); status != 0 || out != "ok\n" {
		t.Errorf("after Reconnect: %d %q", status, out)
	}
}

// TestBastionInteractive: the bastion asks a keyboard-interactive
// question; Bastion.Interactive answers it and the question is shown.
func TestBastionInteractive(t *testing.T) {
	targetKey := newSigner(t)
	target := startServer(t, serverOpts{authorized: []gossh.PublicKey{targetKey.PublicKey()}})
	bastion := startServer(t, serverOpts{interactive: map[string]string{"Verification code: ": "424242"}, allowForward: true})

	var shown strings.Builder
	answers := func(code string) gossh.KeyboardInteractiveChallenge {
		return func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			return answer(&shown, func(bool) (string, error) { return code, nil }, name, instruction, questions, echos)
		}
	}
	opts := target.clientOpts(targetKey)
	opts.HandshakeAttempts, opts.Timeout = 1, 5*time.Second
	opts.Bastion = &Bastion{Host: "127.0.0.1", Port: bastion.port, User: "jumper", Interactive: answers("000000")}
	if c, err := Connect(context.Background(), opts); err == nil {
		c.Close()
		t.Fatal("Connect with a wrong code succeeded")
	}
	shown.Reset()
	opts.Bastion.Interactive = answers("424242")
	c := connect(t, opts)
	if _, out, _ := run(t, c, "echo behind bastion"); out != "behind bastion\n" {
		t.Errorf("stdout = %q", out)
	}
	if got := shown.String(); !strings.Contains(got, "Answer the bastion") || !strings.Contains(got, "Verification code: ") {
		t.Errorf("shown to the user: %q, want the instruction and the question", got)
	}
}

// TestBastionCertificate: a bastion that trusts only a user CA admits the
// key presented with its certificate.
func TestBastionCertificate(t *testing.T) {
	targetKey, bastionKey, ca := newSigner(t), newSigner(t), newSigner(t)
	target := startServer(t, serverOpts{authorized: []gossh.PublicKey{targetKey.PublicKey()}})
	bastion := startServer(t, serverOpts{userCA: ca.PublicKey(), allowForward: true})
	cert := &gossh.Certificate{Key: bastionKey.PublicKey(), CertType: gossh.UserCert, KeyId: "bastion",
		ValidPrincipals: []string{"jumper"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	certSigner, err := CertSigner(bastionKey, gossh.MarshalAuthorizedKey(cert))
	if err != nil {
		t.Fatal(err)
	}
	opts := target.clientOpts(targetKey)
	opts.HandshakeAttempts, opts.Timeout = 1, 5*time.Second
	opts.Bastion = &Bastion{Host: "127.0.0.1", Port: bastion.port, User: "jumper", Signers: []gossh.Signer{bastionKey}}
	if c, err := Connect(context.Background(), opts); err == nil {
		c.Close()
		t.Fatal("Connect with the bare key succeeded; the bastion should want the certificate")
	}
	opts.Bastion.Signers = []gossh.Signer{certSigner}
	c := connect(t, opts)
	if _, out, _ := run(t, c, "echo certified"); out != "certified\n" {
		t.Errorf("stdout = %q", out)
	}
}

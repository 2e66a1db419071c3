package ssh

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/testwait"
)

// clientGoroutines lists goroutines that belong to an SSH client
// connection: our keepalive loop and x/crypto's client handlers. The test
// server's goroutines run other functions.
func clientGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "communicator/ssh.keepAlive") ||
			strings.Contains(g, "x/crypto/ssh.(*Client).handle") {
			found = append(found, g)
		}
	}
	return found
}

func TestKeepAliveStopsOnClose(t *testing.T) {
	testwait.Eventually(t, "earlier tests' clients to go", func() bool { return len(clientGoroutines()) == 0 })
	signer := newSigner(t)
	s := startServer(t, serverOpts{authorized: []gossh.PublicKey{signer.PublicKey()}})
	opts := s.clientOpts(signer)
	opts.KeepAliveInterval = 10 * time.Millisecond
	c, err := Connect(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, "keepalives to reach the server", func() bool { return s.keepalives.Load() >= 3 })
	if len(clientGoroutines()) == 0 {
		t.Fatal("no keepalive goroutine found while connected; the leak check below would prove nothing")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waits for the keepalive loop; x/crypto's handlers exit once
	// the connection's reader sees the close.
	testwait.Eventually(t, "client goroutines to exit after Close", func() bool { return len(clientGoroutines()) == 0 })
}

func TestKeepAliveDetectsDeadPeer(t *testing.T) {
	signer := newSigner(t)
	s := startServer(t, serverOpts{authorized: []gossh.PublicKey{signer.PublicKey()}, ignoreKeepalive: true})
	opts := s.clientOpts(signer)
	opts.KeepAliveInterval = 20 * time.Millisecond
	c := connect(t, opts)
	// The server never answers keepalives, like a host that vanished
	// without closing the TCP connection: the client must give up on the
	// connection instead of waiting for the command forever.
	status, err := c.Run(context.Background(), Cmd{Command: "exec sleep 60"})
	if !errors.Is(err, ErrDisconnected) || status != -1 {
		t.Fatalf("Run = %d, %v; want -1 and ErrDisconnected", status, err)
	}
}

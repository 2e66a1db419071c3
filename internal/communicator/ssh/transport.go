package ssh

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/proxy"
)

// Proxy is a SOCKS5 proxy through which the instance is reached
// (ssh_proxy_host and friends).
type Proxy struct {
	Host string
	Port int // default 1080
	// User and Password authenticate to the proxy when User is set.
	// Password is a secret: it never appears in logs or errors.
	User     string
	Password string
}

// DefaultProxyPort is the SOCKS port used when [Proxy.Port] is zero.
const DefaultProxyPort = 1080

func (p *Proxy) addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// dialTCP opens a TCP connection to addr, through the proxy when one is set.
func dialTCP(ctx context.Context, p *Proxy, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: dialTimeout}
	if p == nil {
		return d.DialContext(ctx, "tcp", addr)
	}
	var auth *proxy.Auth
	if p.User != "" {
		auth = &proxy.Auth{User: p.User, Password: p.Password}
	}
	socks, err := proxy.SOCKS5("tcp", p.addr(), auth, d)
	if err != nil {
		return nil, fmt.Errorf("socks5 proxy %s: %w", p.addr(), err)
	}
	cd, ok := socks.(proxy.ContextDialer)
	if !ok { // x/net's SOCKS5 dialer always is one
		return nil, fmt.Errorf("socks5 proxy %s: dialer cannot be cancelled", p.addr())
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := cd.DialContext(dctx, "tcp", addr)
	if err != nil {
		// x/net's errors name the proxy and target, never the password.
		return nil, fmt.Errorf("through socks5 proxy %s: %w", p.addr(), err)
	}
	return conn, nil
}

// deadlineConn sets a deadline of timeout on every Read and Write
// (ssh_read_write_timeout): a connection on which nothing moves for that
// long fails, and operations on it return an error matching
// ErrDisconnected.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

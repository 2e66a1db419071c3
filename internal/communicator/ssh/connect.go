package ssh

import (
	"context"
	"fmt"
	"net"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Retry pacing for Connect and Reconnect. Dials start quickly because the
// instance is often seconds away from accepting connections, and back off
// to a cap so a long boot does not hammer it.
const (
	retryMin         = 100 * time.Millisecond
	retryMax         = 5 * time.Second
	dialTimeout      = 10 * time.Second // one TCP dial
	handshakeTimeout = 30 * time.Second // one SSH handshake, including auth
)

// failKind says how one connection attempt failed, which decides whether
// and how it is retried.
type failKind int

const (
	failDial      failKind = iota // TCP or tunnel dial: retried until the deadline
	failHandshake                 // SSH handshake or auth: counts toward HandshakeAttempts
	failFatal                     // bad configuration: not retried
)

// Connect dials the instance described by opts, through the bastion when
// one is set, retrying until it succeeds, ctx is done, opts.Timeout has
// passed or opts.HandshakeAttempts handshakes have failed. The returned
// client sends keepalives until it is closed.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{opts: opts, log: opts.Logger}
	cn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.conn = cn
	return c, nil
}

// dial runs the retry loop shared by Connect and Reconnect.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	where := fmt.Sprintf("ssh connect to %s@%s", c.opts.User, c.opts.addr())
	delay := retryMin
	handshakes := 0
	var last error // the last failure not caused by the deadline itself
	for attempt := 1; ; attempt++ {
		cn, kind, err := c.dialOnce(ctx)
		if err == nil {
			c.log.Debug("ssh connected", "addr", c.opts.addr(), "user", c.opts.User, "attempts", attempt)
			return cn, nil
		}
		// A dial cut short by the deadline says less than the failure
		// before it (net can report the timeout just before ctx.Err is set).
		if deadline, _ := ctx.Deadline(); time.Now().Before(deadline) || last == nil {
			last = err
		}
		switch {
		case kind == failFatal:
			return nil, fmt.Errorf("%s: %w", where, err)
		case ctx.Err() != nil:
		case kind == failHandshake:
			if handshakes++; handshakes >= c.opts.HandshakeAttempts {
				return nil, fmt.Errorf("%s: gave up after %d failed handshakes in %s: %w",
					where, handshakes, since(start), err)
			}
		}
		c.log.Debug("ssh connect attempt failed", "attempt", attempt, "retry_in", delay, "error", err)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%s: gave up after %s and %d attempts: %w; last error: %w",
				where, since(start), attempt, ctx.Err(), last)
		case <-timer.C:
		}
		delay = min(2*delay, retryMax)
	}
}

// dialOnce makes one connection attempt, through the proxy and the
// bastion when set, and opens the tunnels and agent forwarding on the
// new connection.
func (c *Client) dialOnce(ctx context.Context) (*conn, failKind, error) {
	target := c.opts.target()
	first := target
	if c.opts.Bastion != nil {
		first = c.opts.bastion()
	}
	raw, err := dialTCP(ctx, c.opts.Proxy, first.addr)
	if err != nil {
		return nil, failDial, first.wrap(err)
	}
	if c.opts.ReadWriteTimeout > 0 {
		raw = &deadlineConn{Conn: raw, timeout: c.opts.ReadWriteTimeout}
	}
	if c.opts.Bastion == nil {
		client, kind, err := handshake(ctx, target, raw)
		if err != nil {
			return nil, kind, err
		}
		return c.finish(client, nil)
	}
	bastion, kind, err := handshake(ctx, first, raw)
	if err != nil {
		return nil, kind, err
	}
	tunnel, err := bastion.DialContext(ctx, "tcp", target.addr)
	if err != nil {
		bastion.Close()
		return nil, failDial, fmt.Errorf("dial %s through %s: %w", target.addr, first, err)
	}
	client, kind, err := handshake(ctx, target, tunnel)
	if err != nil {
		bastion.Close()
		return nil, kind, err
	}
	return c.finish(client, bastion)
}

// finish opens the tunnels and agent forwarding on a new connection.
// Failing to open a tunnel counts as a failed handshake.
func (c *Client) finish(client, bastion *gossh.Client) (*conn, failKind, error) {
	closeAll := func() {
		client.Close()
		if bastion != nil {
			bastion.Close()
		}
	}
	ts, err := openTunnels(client, c.opts.LocalTunnels, c.opts.RemoteTunnels, c.log)
	if err != nil {
		closeAll()
		return nil, failHandshake, err
	}
	cn := c.newConn(client, bastion)
	cn.tunnels = ts
	cn.agent = c.forwardAgent(client)
	return cn, 0, nil
}

// handshake runs the SSH handshake with e over raw, an open connection
// to it, bounded by ctx and handshakeTimeout. It closes raw on failure.
func handshake(ctx context.Context, e endpoint, raw net.Conn) (*gossh.Client, failKind, error) {
	cfg, closeAgent, err := e.clientConfig()
	if err != nil {
		raw.Close()
		return nil, failFatal, err
	}
	defer closeAgent()
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	stop := context.AfterFunc(hctx, func() { raw.Close() })
	sc, chans, reqs, err := gossh.NewClientConn(raw, e.addr, cfg)
	if !stop() { // hctx ended first and closed raw
		if err == nil {
			sc.Close()
		}
		return nil, failHandshake, e.wrap(fmt.Errorf("ssh handshake: %w", hctx.Err()))
	}
	if err != nil {
		raw.Close()
		return nil, failHandshake, e.wrap(err)
	}
	return gossh.NewClient(sc, chans, reqs), 0, nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

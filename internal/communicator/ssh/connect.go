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

// dialOnce makes one connection attempt, through the bastion when set.
func (c *Client) dialOnce(ctx context.Context) (*conn, failKind, error) {
	target := c.opts.target()
	if c.opts.Bastion == nil {
		client, kind, err := handshake(ctx, target, nil)
		if err != nil {
			return nil, kind, err
		}
		return c.newConn(client, nil), 0, nil
	}
	bastion, kind, err := handshake(ctx, c.opts.bastion(), nil)
	if err != nil {
		return nil, kind, err
	}
	tunnel, err := bastion.DialContext(ctx, "tcp", target.addr)
	if err != nil {
		bastion.Close()
		return nil, failDial, fmt.Errorf("dial %s through %s: %w", target.addr, c.opts.bastion(), err)
	}
	client, kind, err := handshake(ctx, target, tunnel)
	if err != nil {
		bastion.Close()
		return nil, kind, err
	}
	return c.newConn(client, bastion), 0, nil
}

// handshake dials e (unless raw is an already open connection to it) and
// runs the SSH handshake, bounded by ctx and handshakeTimeout.
func handshake(ctx context.Context, e endpoint, raw net.Conn) (*gossh.Client, failKind, error) {
	cfg, closeAgent, err := e.clientConfig()
	if err != nil {
		if raw != nil {
			raw.Close()
		}
		return nil, failFatal, err
	}
	defer closeAgent()
	if raw == nil {
		d := net.Dialer{Timeout: dialTimeout}
		if raw, err = d.DialContext(ctx, "tcp", e.addr); err != nil {
			return nil, failDial, e.wrap(err)
		}
	}
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

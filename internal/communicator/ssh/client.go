package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	gossh "golang.org/x/crypto/ssh"
)

// ErrDisconnected is matched (with errors.Is) by errors from operations
// that failed because the connection to the instance was lost, for example
// because the command rebooted it. Call [Client.Reconnect] to continue.
var ErrDisconnected = errors.New("ssh connection lost")

// ErrClosed is matched by errors from operations on a closed [Client].
var ErrClosed = errors.New("ssh client closed")

// Client is a connection to one instance. Create it with [Connect].
type Client struct {
	opts Options
	log  hclog.Logger

	dialMu sync.Mutex // serialises Reconnect

	mu     sync.Mutex
	conn   *conn // nil while reconnecting
	closed bool
	noSFTP bool // the server refused the sftp subsystem; use scp
}

// conn is one established connection and its keepalive loop.
type conn struct {
	client  *gossh.Client
	bastion *gossh.Client // nil without a bastion
	tunnels *tunnels      // nil without tunnels
	agent   bool          // the local agent is forwarded to commands
	stop    context.CancelFunc
	done    chan struct{} // closed when the keepalive loop has returned
}

func (c *Client) newConn(client, bastion *gossh.Client) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	cn := &conn{client: client, bastion: bastion, stop: cancel, done: make(chan struct{})}
	every := c.opts.KeepAliveInterval
	if every <= 0 {
		close(cn.done)
		return cn
	}
	go func() {
		defer close(cn.done)
		keepAlive(ctx, client, every, c.log)
	}()
	return cn
}

// close stops the keepalive loop, waits for it and closes the connection.
func (cn *conn) close() error {
	cn.stop()
	err := cn.client.Close()
	cn.tunnels.close()
	<-cn.done
	if cn.bastion != nil {
		cn.bastion.Close()
	}
	return err
}

// keepAlive sends a keepalive@openssh.com request every interval until ctx
// is done or the connection fails. A request unanswered for three
// intervals closes the connection (like OpenSSH's ServerAliveCountMax=3),
// so commands on a vanished instance fail with ErrDisconnected instead of
// hanging.
func keepAlive(ctx context.Context, client *gossh.Client, every time.Duration, log hclog.Logger) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		watchdog := time.AfterFunc(3*every, func() {
			log.Warn("ssh keepalive unanswered, closing connection", "after", 3*every)
			client.Close()
		})
		_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
		watchdog.Stop()
		if err != nil {
			log.Debug("ssh keepalive failed, connection lost", "error", err)
			return
		}
	}
}

// probeTimeout bounds lost's probe of a connection that does not answer.
const probeTimeout = 15 * time.Second

// lost reports whether the connection is gone, probing it with a
// keepalive (an unanswered probe closes it). When it is gone, lost waits
// until x/crypto has finished tearing it down: a session opened while its
// reader is shutting down can wait forever for an answer, so nothing may
// use the connection in that window.
func lost(client *gossh.Client) bool {
	watchdog := time.AfterFunc(probeTimeout, func() { client.Close() })
	_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
	watchdog.Stop()
	if err == nil {
		return false
	}
	client.Wait()
	return true
}

// current returns the live connection or an error matching ErrClosed or
// ErrDisconnected.
func (c *Client) current() (*gossh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.conn == nil:
		return nil, fmt.Errorf("%w: reconnect in progress or failed", ErrDisconnected)
	}
	return c.conn.client, nil
}

// Reconnect drops the current connection and dials again with the same
// options, retrying as [Connect] does until the instance answers or
// Options.Timeout passes. Use it after an expected disconnect such as a
// reboot; operations still running on the old connection fail with
// ErrDisconnected.
func (c *Client) Reconnect(ctx context.Context) error {
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	c.mu.Lock()
	old, closed := c.conn, c.closed
	c.conn = nil
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("reconnect to %s: %w", c.opts.addr(), ErrClosed)
	}
	if old != nil {
		old.close()
	}
	cn, err := c.dial(ctx)
	if err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cn.close()
		return fmt.Errorf("reconnect to %s: %w", c.opts.addr(), ErrClosed)
	}
	c.conn = cn
	return nil
}

// Close closes the connection and stops the keepalive loop before
// returning. Closing a closed client does nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	cn := c.conn
	c.conn, c.closed = nil, true
	c.mu.Unlock()
	if cn == nil {
		return nil
	}
	if err := cn.close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close ssh connection to %s: %w", c.opts.addr(), err)
	}
	return nil
}

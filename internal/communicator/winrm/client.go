package winrm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// ErrDisconnected is matched (with errors.Is) by errors from operations
// that failed because the connection to the instance was lost, for example
// because the command restarted it. Call [Client.Reconnect] to continue.
var ErrDisconnected = errors.New("winrm connection lost")

// ErrClosed is matched by errors from operations on a closed [Client].
var ErrClosed = errors.New("winrm client closed")

// Client is a connection to one instance. Create it with [Connect]. It is
// safe for concurrent use; each operation runs in its own remote shell.
type Client struct {
	opts Options
	log  hclog.Logger

	// base is cancelled by Close, which ends every operation in flight.
	base   context.Context
	cancel context.CancelFunc

	dialMu sync.Mutex // serialises Reconnect

	mu     sync.Mutex
	tr     *transport // nil while reconnecting
	closed bool
}

// current returns the live transport or an error matching ErrClosed or
// ErrDisconnected.
func (c *Client) current() (*transport, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, ErrClosed
	case c.tr == nil:
		return nil, fmt.Errorf("%w: reconnect in progress or failed", ErrDisconnected)
	}
	return c.tr, nil
}

// opContext returns a context for one operation: done when ctx is or when
// the client is closed (then its cause is ErrClosed).
func (c *Client) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(c.base, func() { cancel(ErrClosed) })
	return ctx, func() { stop(); cancel(nil) }
}

// withShell runs op in a new shell on the current connection and wraps
// its error with what, the address and, when the connection turns out to
// be gone, ErrDisconnected.
func (c *Client) withShell(ctx context.Context, what string, op func(context.Context, *shell) error) error {
	err := c.inShell(ctx, op)
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s on %s: %w", what, c.opts.addr(), err)
}

func (c *Client) inShell(ctx context.Context, op func(context.Context, *shell) error) error {
	t, err := c.current()
	if err != nil {
		return err
	}
	ctx, done := c.opContext(ctx)
	defer done()
	sh, err := openShell(ctx, t, c.log)
	if err != nil {
		return c.opErr(ctx, err)
	}
	defer sh.close(ctx)
	return c.opErr(ctx, op(ctx, sh))
}

// opErr explains an operation's failure: the client was closed, or the
// connection is lost (a request without an HTTP answer, or a started
// command whose result could not be received).
func (c *Client) opErr(ctx context.Context, err error) error {
	var ne *netError
	var cl *commandLost
	switch {
	case err == nil:
		return nil
	case errors.Is(context.Cause(ctx), ErrClosed):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, ErrDisconnected), errors.Is(err, ErrAuth), ctx.Err() != nil:
		return err
	case errors.As(err, &ne), errors.As(err, &cl):
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return err
}

// Reconnect drops the current connection and connects again with the
// same options, retrying as [Connect] does until the instance answers or
// Options.Timeout passes. Use it after an expected disconnect such as a
// restart, once the instance has gone down: an instance that has not
// started restarting yet still answers. Operations still running on the
// old connection fail with ErrDisconnected.
func (c *Client) Reconnect(ctx context.Context) error {
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	c.mu.Lock()
	old, closed := c.tr, c.closed
	c.tr = nil
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("reconnect to %s: %w", c.opts.addr(), ErrClosed)
	}
	if old != nil {
		old.close()
	}
	ctx, done := c.opContext(ctx)
	defer done()
	t, err := c.dial(ctx)
	if err != nil {
		return fmt.Errorf("reconnect: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		t.close()
		return fmt.Errorf("reconnect to %s: %w", c.opts.addr(), ErrClosed)
	}
	c.tr = t
	return nil
}

// Close ends the operations in flight (their remote commands are
// terminated) and drops the connection. Closing a closed client does
// nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	t := c.tr
	c.tr, c.closed = nil, true
	c.mu.Unlock()
	c.cancel()
	if t != nil {
		t.close()
	}
	return nil
}

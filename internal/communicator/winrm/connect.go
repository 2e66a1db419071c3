package winrm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Retry pacing for Connect and Reconnect. The first retry comes quickly
// because the instance is often about to answer; later ones every few
// seconds, so a long boot is not hammered.
const (
	retryFirst   = 500 * time.Millisecond
	retryMax     = 5 * time.Second
	attemptLimit = 60 * time.Second // one attempt: open a shell, run the probe
)

// probeCommand proves a connection: a cmd built-in that needs nothing.
const probeCommand = "echo ok"

// Connect connects to the instance described by opts, retrying until a
// command runs, ctx is done or opts.Timeout has passed. Connection errors
// (refused, reset, timed out, server errors while WinRM starts) are
// retried; rejected credentials (HTTP 401) and an untrusted certificate
// are reported at once.
func Connect(ctx context.Context, opts Options) (*Client, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	c := &Client{opts: opts, log: opts.Logger, base: base, cancel: cancel}
	t, err := c.dial(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	c.tr = t
	return c, nil
}

// dial runs the retry loop shared by Connect and Reconnect.
func (c *Client) dial(ctx context.Context) (*transport, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	where := fmt.Sprintf("winrm connect to %s@%s", c.opts.User, c.opts.addr())
	delay := retryFirst
	var last error // the last failure not caused by the deadline itself
	for attempt := 1; ; attempt++ {
		t := newTransport(c.opts)
		err := c.probe(ctx, t)
		if err == nil {
			c.log.Debug("winrm connected", "addr", c.opts.addr(), "user", c.opts.User, "https", c.opts.HTTPS, "ntlm", c.opts.NTLM, "attempts", attempt)
			return t, nil
		}
		t.close()
		if deadline, _ := ctx.Deadline(); time.Now().Before(deadline) || last == nil {
			last = err
		}
		if fatal(err) {
			return nil, fmt.Errorf("winrm connect: %w", explainFatal(err))
		}
		c.log.Debug("winrm connect attempt failed", "addr", c.opts.addr(), "attempt", attempt, "retry_in", delay, "error", err)
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%s: gave up after %s and %d attempts: %w; last error: %w",
				where, since(start), attempt, ctx.Err(), last)
		case <-timer.C:
		}
		delay = min(4*delay, retryMax)
	}
}

// probe opens a shell and runs probeCommand in it.
func (c *Client) probe(ctx context.Context, t *transport) error {
	ctx, cancel := context.WithTimeout(ctx, attemptLimit)
	defer cancel()
	sh, err := openShell(ctx, t, c.log)
	if err != nil {
		return err
	}
	defer sh.close(ctx)
	_, err = sh.run(ctx, probeCommand, nil, nil, nil)
	return err
}

// explainFatal adds the fix to a certificate error.
func explainFatal(err error) error {
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return fmt.Errorf("%w (a new instance's certificate is self-signed: set winrm_insecure = true, or install a trusted certificate)", err)
	}
	return err
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

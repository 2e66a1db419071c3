package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// Cmd is a command to run on the instance with [Client.Run].
type Cmd struct {
	// Command is run by the remote user's login shell.
	Command string
	// Stdin, when set, is copied to the command's standard input; Run
	// returns only after it has reached EOF or the command has ended.
	Stdin io.Reader
	// Stdout and Stderr receive output as it arrives; nil discards it.
	// They may be the same writer only if it is safe for concurrent use
	// (a [LineWriter] is).
	Stdout, Stderr io.Writer
	// There is no environment: a value put on the command line would show
	// in the remote process list. Callers upload it in a file and source
	// it (as the shell provisioner does).
}

// Run runs cmd and returns its exit status. A non-zero status is not an
// error: err reports transport failures only. A command killed by a
// signal reports 128 plus the signal number. When ctx is done Run sends
// KILL to the remote command, closes the session and returns ctx's error.
// When the connection is lost the error matches [ErrDisconnected].
func (c *Client) Run(ctx context.Context, cmd Cmd) (int, error) {
	client, err := c.current()
	if err != nil {
		return -1, fmt.Errorf("run command on %s: %w", c.opts.addr(), err)
	}
	sess, err := client.NewSession()
	if err != nil {
		return -1, fmt.Errorf("open session on %s: %w", c.opts.addr(), lostErr(client, err))
	}
	defer sess.Close()
	c.requestAgent(client, sess)
	sess.Stdin, sess.Stdout, sess.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	if c.opts.PTY {
		modes := gossh.TerminalModes{gossh.ECHO: 0, gossh.TTY_OP_ISPEED: 14400, gossh.TTY_OP_OSPEED: 14400}
		if err := sess.RequestPty("xterm", 40, 80, modes); err != nil {
			return -1, fmt.Errorf("request pty on %s: %w", c.opts.addr(), lostErr(client, err))
		}
	}
	c.log.Debug("ssh run", "addr", c.opts.addr())
	if err := sess.Start(cmd.Command); err != nil {
		return -1, fmt.Errorf("start command on %s: %w", c.opts.addr(), lostErr(client, err))
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = sess.Signal(gossh.SIGKILL) // best effort: OpenSSH before 7.9 ignores signals
		sess.Close()
		<-waited
		return -1, fmt.Errorf("run command on %s: killed: %w", c.opts.addr(), ctx.Err())
	}
	return c.exitStatus(client, err)
}

// exitStatus maps the result of Session.Wait to Run's results.
func (c *Client) exitStatus(client *gossh.Client, err error) (int, error) {
	var exit *gossh.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		return exit.ExitStatus(), nil
	}
	return -1, fmt.Errorf("run command on %s: %w", c.opts.addr(), lostErr(client, err))
}

// lostErr makes err match ErrDisconnected when the connection is gone or
// the command ended without an exit status (the remote end closed it).
func lostErr(client *gossh.Client, err error) error {
	var missing *gossh.ExitMissingError
	switch {
	case errors.Is(err, ErrDisconnected):
		return err
	case lost(client), errors.As(err, &missing):
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return err
}

// shellQuote quotes s as one POSIX shell word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

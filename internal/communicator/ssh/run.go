package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
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
	// Env is exported to the command by prefixing it with a POSIX shell
	// "export" (sshd refuses most variables sent as "env" requests).
	Env map[string]string
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Run runs cmd and returns its exit status. A non-zero status is not an
// error: err reports transport failures only. A command killed by a
// signal reports 128 plus the signal number. When ctx is done Run sends
// KILL to the remote command, closes the session and returns ctx's error.
// When the connection is lost the error matches [ErrDisconnected].
func (c *Client) Run(ctx context.Context, cmd Cmd) (int, error) {
	command, err := cmd.commandLine()
	if err != nil {
		return -1, fmt.Errorf("run command on %s: %w", c.opts.addr(), err)
	}
	client, err := c.current()
	if err != nil {
		return -1, fmt.Errorf("run command on %s: %w", c.opts.addr(), err)
	}
	sess, err := client.NewSession()
	if err != nil {
		return -1, fmt.Errorf("open session on %s: %w", c.opts.addr(), lostErr(client, err))
	}
	defer sess.Close()
	sess.Stdin, sess.Stdout, sess.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	if c.opts.PTY {
		modes := gossh.TerminalModes{gossh.ECHO: 0, gossh.TTY_OP_ISPEED: 14400, gossh.TTY_OP_OSPEED: 14400}
		if err := sess.RequestPty("xterm", 40, 80, modes); err != nil {
			return -1, fmt.Errorf("request pty on %s: %w", c.opts.addr(), lostErr(client, err))
		}
	}
	c.log.Debug("ssh run", "addr", c.opts.addr(), "env_vars", len(cmd.Env))
	if err := sess.Start(command); err != nil {
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

// commandLine prefixes Command with an export of Env, sorted by name.
func (cmd Cmd) commandLine() (string, error) {
	if len(cmd.Env) == 0 {
		return cmd.Command, nil
	}
	names := make([]string, 0, len(cmd.Env))
	for name := range cmd.Env {
		if !envName.MatchString(name) {
			return "", fmt.Errorf("environment variable name %q is not a shell identifier", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("export")
	for _, name := range names {
		fmt.Fprintf(&b, " %s=%s", name, shellQuote(cmd.Env[name]))
	}
	return b.String() + "; " + cmd.Command, nil
}

// shellQuote quotes s as one POSIX shell word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

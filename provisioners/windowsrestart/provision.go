package windowsrestart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

var _ provision.Provisioner = (*Config)(nil)

// Pauses, Packer's: between restart_command attempts while a shutdown is
// already under way, and before each check of the restarted instance.
const (
	pendingDelay = 10 * time.Second
	checkDelay   = 5 * time.Second
)

// Exit codes of shutdown.exe that mean a shutdown is already under way;
// restart_command is tried again.
const (
	errShutdownInProgress  = 1115 // ERROR_SHUTDOWN_IN_PROGRESS
	errShutdownIsScheduled = 1190 // ERROR_SHUTDOWN_IS_SCHEDULED
)

// restart is one run of the provisioner on one instance.
type restart struct {
	// Retrier's Stale is set once the connection has dropped (or is
	// expected to); the next attempt reconnects first.
	script.Retrier
	c       *Config
	comm    provision.Communicator
	out     io.Writer
	timeout time.Duration
}

// Provision restarts the instance and waits until it is back:
//
//  1. It runs restart_command, again every 10s while it exits 1115 or
//     1190 (a shutdown is already in progress or scheduled), within
//     restart_timeout. A dropped connection means the restart began.
//  2. It waits 5s, reconnects and runs restart_check_command, every 5s
//     until it exits 0, reconnecting after each transport error; its
//     output is shown.
//  3. With check_registry, it runs the registry check (an imgbuild tool
//     script) until none of registry_keys exists, every 5s.
//
// Steps 2 and 3 share one restart_timeout.
func (c *Config) Provision(ctx context.Context, env *provision.Env) error {
	if env.Comm == nil {
		return errors.New(`windows-restart needs a connection to the instance; the source has communicator = "none"`)
	}
	out := script.SyncWriter(env.Out)
	r := &restart{c: c, comm: env.Comm, out: out, timeout: check.DurationValue(c.RestartTimeout),
		Retrier: script.Retrier{Comm: env.Comm, Out: out, Log: env.Logger}}
	fmt.Fprintln(r.out, "Restarting the instance")
	if err := r.poll(ctx, time.Now().Add(r.timeout), "restart_command to be accepted", 0, pendingDelay, r.restart); err != nil {
		return err
	}
	r.Stale = true
	fmt.Fprintln(r.out, "Waiting for the instance to restart")
	deadline := time.Now().Add(r.timeout)
	if err := r.poll(ctx, deadline, "the instance to come back (restart_check_command)", checkDelay, checkDelay, r.check); err != nil {
		return err
	}
	if c.CheckRegistry {
		keys := strings.Join(c.RegistryKeys, ";")
		pending := ""
		err := r.poll(ctx, deadline, "the pending restart to clear (registry_keys)", 0, checkDelay, func(ctx context.Context) (bool, error) {
			return r.registry(ctx, keys, &pending)
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(r.out, "Instance restarted")
	return nil
}

// fatal marks an attempt's error that ends the wait at once.
type fatal struct{ error }

// poll runs attempt, first after first and then every every, until it is
// done, fails fatally, or deadline passes; then the error says what it
// waited for, for how long, and why the last attempt failed.
func (r *restart) poll(ctx context.Context, deadline time.Time, what string, first, every time.Duration, attempt func(context.Context) (bool, error)) error {
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var last error
	for delay := first; ; delay = every {
		if script.Sleep(wctx, delay) != nil {
			break
		}
		done, err := attempt(wctx)
		if f := (fatal{}); errors.As(err, &f) {
			return f.error
		}
		if done {
			return nil
		}
		if wctx.Err() != nil {
			// err is the deadline's: the previous attempt's says more.
			if last == nil {
				last = err
			}
			break
		}
		r.Debug("waiting", "for", what, "error", err)
		last = err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
	}
	if last == nil {
		last = errors.New("no answer")
	}
	return fmt.Errorf("timed out after restart_timeout %s waiting for %s: %w", r.c.RestartTimeout, what, last)
}

// restart runs restart_command once.
func (r *restart) restart(ctx context.Context) (bool, error) {
	status, err := r.comm.Run(ctx, &provision.Cmd{Command: r.c.RestartCommand, Stdout: r.out, Stderr: r.out})
	switch {
	case err != nil && ctx.Err() != nil:
		return false, err
	case err != nil:
		// The restart dropped the connection before the command returned.
		r.Debug("restart_command disconnected", "error", err)
		return true, nil
	case status == 0:
		return true, nil
	case status == errShutdownInProgress || status == errShutdownIsScheduled:
		fmt.Fprintf(r.out, "A shutdown is already in progress or scheduled (exit status %d); trying restart_command again in %s\n", status, pendingDelay)
		return false, fmt.Errorf("a shutdown is already in progress or scheduled (exit status %d)", status)
	default:
		return false, fatal{fmt.Errorf("restart_command exited with status %d", status)}
	}
}

// check reconnects if needed and runs restart_check_command once; when it
// exits 0 its output is shown.
func (r *restart) check(ctx context.Context) (bool, error) {
	var buf bytes.Buffer
	status, err := r.run(ctx, r.c.RestartCheckCommand, &buf)
	switch {
	case err != nil:
		return false, err
	case status != 0:
		return false, fmt.Errorf("restart_check_command exited with status %d", status)
	}
	_, _ = r.out.Write(buf.Bytes())
	return true, nil
}

// registry runs the registry check once; it is done when no key exists.
// A new set of existing keys is shown once; pending holds the last one.
func (r *restart) registry(ctx context.Context, keys string, pending *string) (bool, error) {
	var buf bytes.Buffer
	status, err := r.run(ctx, registryCheckCommand(keys), &buf)
	switch {
	case err != nil:
		return false, err
	case status != 0:
		return false, fmt.Errorf("registry check exited with status %d", status)
	}
	var existing []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			existing = append(existing, l)
		}
	}
	found := strings.Join(existing, ", ")
	if found == "" {
		return true, nil
	}
	if found != *pending {
		fmt.Fprintf(r.out, "A restart is still pending (registry keys exist: %s); waiting\n", found)
		*pending = found
	}
	return false, fmt.Errorf("registry keys exist: %s", found)
}

// run reconnects if the connection dropped, then runs command with its
// output in w. A transport error marks the connection stale.
func (r *restart) run(ctx context.Context, command string, w io.Writer) (int, error) {
	if err := r.Reconnect(ctx); err != nil {
		return 0, err
	}
	status, err := r.comm.Run(ctx, &provision.Cmd{Command: command, Stdout: w, Stderr: w})
	if err != nil {
		r.Stale = true
	}
	return status, err
}

// Command imgbuild builds Amazon machine images from HCL templates.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/imgbuild/imgbuild/internal/ui"
)

// env is what every command receives: where to write, how to log, and the
// process environment (so tests can run commands in-process).
type env struct {
	stdout, stderr io.Writer
	// stdin is what commands read from the user (fmt -); nil is os.Stdin.
	stdin  io.Reader
	ui     *ui.UI
	getenv func(string) string
	// interrupts delivers the second and later interrupt signals after the
	// first one cancelled the command's context.
	interrupts <-chan os.Signal
}

// command is one subcommand of the CLI.
type command struct {
	synopsis string
	usage    string
	run      func(ctx context.Context, e *env, args []string) int
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// realMain runs the CLI and returns its exit code. The first SIGINT or
// SIGTERM cancels the context; later ones are handed to the command.
func realMain(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	later := make(chan os.Signal, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relayed := make(chan struct{})
	// The relay ends when sigs is closed (after signal.Stop, so nothing
	// sends any more); it then closes later, which ends the command's own
	// watcher (abandonOnSecondInterrupt). realMain waits for it.
	defer func() {
		signal.Stop(sigs)
		close(sigs)
		<-relayed
	}()
	go func() {
		defer close(relayed)
		defer close(later)
		first := true
		for s := range sigs {
			if first {
				first = false
				cancel()
				continue
			}
			select {
			case later <- s:
			default:
			}
		}
	}()
	e := &env{stdout: stdout, stderr: stderr, stdin: os.Stdin, getenv: getenv, interrupts: later}
	e.ui = ui.New(stdout, stderr)
	return dispatch(ctx, e, args)
}

func dispatch(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printHelp(e.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "-v" || args[0] == "--version" {
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "imgbuild: unknown command %q%s\n\n", args[0], suggestCommand(args[0]))
		printHelp(e.stderr)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: imgbuild <command> [options] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "imgbuild builds Amazon machine images (AMIs) from HCL templates.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "    %-12s %s\n", n, commands[n].synopsis)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'imgbuild <command> --help' for a command's options.")
	fmt.Fprintln(w, "Set IMGBUILD_LOG=debug (and IMGBUILD_LOG_PATH=FILE) for logs.")
}

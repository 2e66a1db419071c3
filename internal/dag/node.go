package dag

import (
	"context"
	"runtime/debug"
)

// Node is one unit of work in a graph.
type Node interface {
	// Run does the node's work. It is called at most once per walk, only
	// after every dependency succeeded, on a context that is cancelled when
	// the walk is interrupted or stopped by FailFast; Run should then
	// return promptly. An error (or a panic) fails the node and skips its
	// dependents.
	Run(ctx context.Context) error
}

// Cleaner is an optional upgrade of Node for nodes that create something
// that has to be undone or released (an instance, a key pair, a temporary
// security group). If a Node is a Cleaner, Cleanup is called at most once
// per walk, and only if Run was started: whether Run succeeded, failed,
// panicked or was cancelled, as soon as no node of its group is running
// or can start any more (other groups may still be running), in reverse
// start order within the group. Only Options.Abandon can prevent it.
type Cleaner interface {
	// Cleanup undoes or releases what Run created, including what a Run
	// that failed part way through created. Its context survives the
	// cancellation of the walk but has a deadline (Options.CleanupTimeout)
	// and is cancelled when Options.Abandon fires; Cleanup must return
	// promptly when it is done, since the walker cannot stop it otherwise.
	// Its error should name what may be left behind (resource and region).
	Cleanup(ctx context.Context) error
}

// runNode calls n.Run, turning a panic into a *PanicError.
func runNode(ctx context.Context, n Node) (err error) {
	defer recoverInto(&err)
	return n.Run(ctx)
}

// runCleanup calls c.Cleanup, turning a panic into a *PanicError.
func runCleanup(ctx context.Context, c Cleaner) (err error) {
	defer recoverInto(&err)
	return c.Cleanup(ctx)
}

// recoverInto must be deferred directly; it stores a recovered panic in *err.
func recoverInto(err *error) {
	if v := recover(); v != nil {
		*err = &PanicError{Value: v, Stack: debug.Stack()}
	}
}

// Package dag runs a graph of dependent nodes in parallel and cleans up
// after them.
//
// A plan turns a template into a Graph: one Node per step (launch an
// instance, provision it, create an image, copy it to a region...), each in
// the Group of the build it belongs to, with the dependencies between them.
// Graph.Walk then runs the graph under these rules:
//
//   - A node runs once every dependency has succeeded, with at most
//     Options.Parallelism nodes running at once across all groups. Ready
//     nodes start in Graph.Order. A node inside Waiting (waiting on the
//     cloud rather than working) gives its slot back until fn returns.
//   - A node whose Run returns an error or panics is Failed. Its transitive
//     dependents are Skipped, with Outcome.SkippedBecause naming it and no
//     error of their own; every other node, in its group or another, still
//     runs. With Options.FailFast the first failure instead cancels the
//     whole walk.
//   - When the walk is cancelled (the caller's context, Options.FailFast or
//     Options.Abandon), running nodes see their context cancelled, and
//     nodes not yet started never start: their status is Cancelled. So is
//     the status of a running node whose Run returns an error after the
//     cancellation; a Run that returns nil still Succeeded.
//   - As soon as a group is settled (none of its nodes is running and none
//     can start any more: they finished, were skipped or cancelled), every
//     node of the group that started and is a Cleaner gets its Cleanup,
//     one at a time, in reverse start order, whatever happened to the run,
//     while other groups keep running. Groups joined by a dependency settle
//     and clean up together, as one. At most Options.CleanupParallelism
//     groups clean up at once. Cleanup runs on a context that keeps the
//     caller's values but not its cancellation (context.WithoutCancel),
//     with a deadline of Options.CleanupTimeout per node. A node that
//     never started gets no cleanup.
//   - When Options.Abandon fires (the CLI's second interrupt), the
//     cleanups in progress see their context cancelled and the remaining
//     cleanups, of every group, are not run. Result.Leftover lists every
//     started Cleaner whose cleanup did not run, did not finish or failed:
//     what may be left behind.
//
// Walk returns a Result with one Outcome per node rather than a bare error;
// Result.Err aggregates the errors worth reporting. Walk owns every
// goroutine it starts and returns only after all of them have returned;
// the one thing it cannot do is stop a Run or Cleanup that ignores its
// context.
package dag

// Package runner executes a plan: every step of every selected build
// becomes a node of one DAG (builder steps come from the build's builder,
// provisioner and post-processor steps are run here), the walk runs builds
// in parallel with a shared bound, and every node that started gets its
// cleanup in reverse start order whatever happens. Each resource a build
// creates is journaled (internal/journal) so a crash leaves a record
// `imgbuild cleanup` can act on.
//
// The runner reports a Result per build: its outcome, the artifact (the
// image per region), the error that stopped it, and what cleanup could
// not remove.
package runner

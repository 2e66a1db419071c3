// Package builder is the contract between the runner, which executes the
// plan of every build as one DAG, and the builders (amazon-ebs, ...), which
// provide the nodes of their own steps.
package builder

import (
	"io"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/plan"
	"github.com/imgbuild/imgbuild/internal/provision"
)

// Tag keys imgbuild puts on every resource it creates, at creation.
const (
	TagRunID     = "imgbuild:run-id"    // the run that created it
	TagBuild     = "imgbuild:build"     // the full build name
	TagTemporary = "imgbuild:temporary" // "true" on what the build deletes when done
	TagComplete  = "imgbuild:complete"  // set on final images once the whole build succeeded
)

// Env is what a build's nodes work with. One Env per build.
type Env struct {
	RunID     string
	BuildName string // full name, e.g. base.amazon-ebs.al2023
	// Journal records every resource before and after its create call.
	Journal *journal.Writer
	// Say prints a progress line for this build ("==> <build>: ...").
	Say func(format string, args ...any)
	// Out receives streamed command output, prefixed per build by the runner.
	Out     io.Writer
	Logger  hclog.Logger
	BaseDir string    // template directory
	Now     time.Time // run start, for {{timestamp}}
	// Secrets are masked in all output; a builder adds the secrets it makes
	// (for example a temporary private key).
	AddSecret func(string)
}

// RunTags returns the tags every resource of this build carries.
func (e *Env) RunTags() map[string]string {
	return map[string]string{TagRunID: e.RunID, TagBuild: e.BuildName}
}

// Build is one running build of a builder. The runner asks it for a node
// per builder step, runs provisioner and post-processor steps itself with
// what the build exposes, and reads the artifact at the end.
type Build interface {
	// Node returns the DAG node of a builder step (every kind except
	// Provision and PostProcess).
	Node(step *plan.Step) (dag.Node, error)
	// Communicator is the connection to the instance, valid once the
	// Connect step succeeded; nil with communicator "none".
	Communicator() provision.Communicator
	// Data is the placeholder data for this build ({{ .SourceAMI }}, ...),
	// complete once the source is resolved.
	Data() interpolate.Data
	// Artifact is what the build produced, complete after the Join step.
	Artifact() *artifact.Artifact
}

// Package builder is the contract between the engine and the builders
// (amazon-ebs, ...). A builder plans the steps of a build from its Config
// (Builder.Plan, through a Planner) and runs them (Builder.Start returns a
// Build, which gives a DAG node per step). The registry's component table
// names each builder's Builder; internal/plan and internal/runner reach
// builders only through it, so they name none.
//
// The package imports no template, plan or builder package, so builders
// can import it without a cycle (the registry imports the builders and the
// template loader imports the registry).
package builder

import (
	"context"
	"io"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/dag"
	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// Builder is one builder type. Its methods receive the prepared Config of
// the builder's component (registry.Component.New) and refuse any other
// type with an error.
type Builder interface {
	// Plan adds the steps of one build of cfg to p, or says why cfg
	// cannot be built.
	Plan(cfg any, p Planner) error
	// Start returns the running build of cfg in env, whose nodes run the
	// steps Plan added. It may set up clients but creates nothing.
	Start(ctx context.Context, env *Env, cfg any) (Build, error)
}

// Build is one running build of a builder. The runner asks it for a node
// per builder step, runs provisioner and post-processor steps itself with
// what the build exposes, and reads the artifact at the end.
type Build interface {
	// Node returns the DAG node of a step the builder planned (every
	// step except the provisioner and post-processor steps).
	Node(step *Step) (dag.Node, error)
	// Communicator is the connection to the instance, valid once the
	// builder's connect step succeeded; nil when there is none.
	Communicator() provision.Communicator
	// Data is the placeholder data for this build ({{ .SourceAMI }}, ...),
	// complete once the source is resolved.
	Data() interpolate.Data
	// Artifact is what the build produced, complete after its last
	// builder step.
	Artifact() *artifact.Artifact
}

// Surveyor is implemented by a Build that can tell, before any step
// runs, whether the image it would make exists already. The runner calls
// it before the walk, creating nothing.
type Surveyor interface {
	// ResolveSource finds the source image in the build region (when the
	// source is not another build) and returns its ID. The build keeps
	// what it found: its resolve step does not look again.
	ResolveSource(ctx context.Context) (string, error)
	// FindBuilt returns, by region, the complete images tagged with the
	// fingerprint in the regions the build keeps an image in; a region
	// without one is absent.
	FindBuilt(ctx context.Context, fingerprint string) (map[string]Found, error)
	// ImageIn returns the build's image in region once a step made it
	// available there (or it existed before the run), "" before.
	ImageIn(region string) string
}

// Leaser is implemented by a Build that can hold a lease on its
// fingerprint in the cloud, so that two runners (on different machines)
// never build the same fingerprint at once.
type Leaser interface {
	// Lease waits until the fingerprint's lease is free (telling wait who
	// holds it meanwhile), takes it, keeps it alive, and returns its
	// release.
	Lease(ctx context.Context, fingerprint, holder string, wait func(holder string)) (release func(context.Context) error, err error)
}

// Found is an image of a build's fingerprint that exists already.
type Found struct {
	artifact.Image
	Created time.Time
}

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
	BaseDir string    // working directory: relative component paths resolve here
	Now     time.Time // run start, for {{timestamp}}
	// Secrets are masked in all output; a builder adds the secrets it makes
	// (for example a temporary private key).
	AddSecret func(string)
	// Progress, when set, shows how far a long operation of this build is
	// (task "copy to eu-west-1", pct 0-100); 100 ends the task.
	Progress func(task string, pct int)
	// Retry, when set, is told of an AWS call retried after a delay worth
	// telling the user about (the line says why and for how long).
	Retry func(line string)
	// Fingerprint is the build's fingerprint, tagged on its images and
	// snapshots ("" when it has none).
	Fingerprint string
	// ParentImage, set when the build's source is another build's image
	// (source_build), returns that image in region. The runner makes the
	// build's first step wait for it.
	ParentImage func(region string) (string, error)
	// Debug is set in Packer's -debug mode: a builder that makes a
	// temporary SSH key saves it in the working directory, so the user
	// can log in to the instance while the run pauses.
	Debug bool
}

// RunTags returns the tags every resource of this build carries.
func (e *Env) RunTags() map[string]string {
	return map[string]string{tags.RunID: e.RunID, tags.Build: e.BuildName}
}

// ImageTags returns the tags that say what a final image is: its recipe
// and, when it has one, its fingerprint.
func (e *Env) ImageTags() map[string]string {
	t := map[string]string{tags.Recipe: e.BuildName}
	if e.Fingerprint != "" {
		t[tags.Fingerprint] = e.Fingerprint
	}
	return t
}

// Layered is implemented by a Config whose source image may be another
// build's (source_build).
type Layered interface {
	// ParentBuild returns the name of the build whose image is the
	// source ("" when the source is an AMI) and the region it is needed
	// in.
	ParentBuild() (name, region string)
}

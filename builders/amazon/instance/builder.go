package instance

import (
	"context"
	"errors"

	"github.com/imgbuild/imgbuild/internal/builder"
)

// errNotImplemented refuses every amazon-instance build: the configuration
// is checked, but bundling and registering are not implemented yet.
var errNotImplemented = errors.New("amazon-instance builds are not implemented yet")

// Builder is the amazon-instance builder. It plans and starts no build yet.
type Builder struct{}

var _ builder.Builder = Builder{}

// Plan refuses the build: amazon-instance builds are not implemented yet.
func (Builder) Plan(any, builder.Planner) error { return errNotImplemented }

// Start refuses the build: amazon-instance builds are not implemented yet.
func (Builder) Start(context.Context, *builder.Env, any) (builder.Build, error) {
	return nil, errNotImplemented
}

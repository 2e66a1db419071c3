package artifact

import (
	"context"
	"io"

	"github.com/hashicorp/go-hclog"
)

// PostProcessor is implemented by the Config of every post-processor
// component. It receives the artifact of one build and returns the
// artifact the next post-processor in its chain sees.
type PostProcessor interface {
	PostProcess(ctx context.Context, env *Env, a *Artifact) (*Artifact, error)
}

// Env is what a post-processor works with.
type Env struct {
	Out     io.Writer // progress, prefixed with the build name by the caller
	BaseDir string    // the template directory; relative paths resolve here
	Logger  hclog.Logger
}

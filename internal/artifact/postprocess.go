package artifact

import (
	"context"
	"io"
	"time"

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
	BaseDir string    // the working directory; relative paths resolve here
	Logger  hclog.Logger
	// Now is the run's start time.
	Now time.Time
}

// Planner is implemented by the Config of a post-processor that can say,
// without changing anything, what PostProcess would do with a (imgbuild
// plan). a may be Planned: its images with an empty ImageID do not exist
// yet. Each returned line is one action ("put /images/app in us-east-1:
// ami-1 (now ami-0)"); none means nothing to do.
type Planner interface {
	PlanPostProcess(ctx context.Context, env *Env, a *Artifact) ([]string, error)
}

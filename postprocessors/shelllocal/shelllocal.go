// Package shelllocal is the shell-local post-processor: after a build it
// runs commands on the machine running imgbuild, with the build's
// artifact in their environment.
package shelllocal

import (
	"context"
	"strings"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/script"
	provisioner "github.com/imgbuild/imgbuild/provisioners/shelllocal"
)

var _ artifact.PostProcessor = (*Config)(nil)

// Config is the configuration of a post-processor "shell-local" block. It
// has the attributes of the shell-local provisioner (command, inline,
// script, scripts, environment_vars, env, execute_command, inline_shebang,
// only_on, use_linux_pathing, valid_exit_codes), as in Packer, where both
// share one configuration.
type Config struct {
	provisioner.Config
}

// Prepare fills defaults and checks the configuration offline, as the
// provisioner does.
func (c *Config) Prepare(ctx *check.Context) {
	c.Config.Prepare(ctx)
}

// PostProcess runs the scripts locally, as the shell-local provisioner
// does, with these variables added to the environment (environment_vars
// and env override them):
//
//	PACKER_BUILD_NAME, PACKER_BUILDER_TYPE   the build
//	IMGBUILD_ARTIFACT_ID                     "us-east-1:ami-1,eu-west-1:ami-2"
//	IMGBUILD_RUN_ID                          the run's ID
//	IMGBUILD_IMAGE_<REGION>                  the image in that region, e.g.
//	                                         IMGBUILD_IMAGE_US_EAST_1=ami-1
//
// It returns the artifact unchanged.
func (c *Config) PostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) (*artifact.Artifact, error) {
	err := c.Run(ctx, provisioner.RunEnv{
		Out:         env.Out,
		BaseDir:     env.BaseDir,
		BuildName:   a.BuildName,
		BuilderType: a.BuilderType,
		Extra:       Vars(a),
	})
	return a, err
}

// Vars returns the variables that describe a: IMGBUILD_ARTIFACT_ID,
// IMGBUILD_RUN_ID and one IMGBUILD_IMAGE_<REGION> per image, where REGION
// is the region in upper case with "-" replaced by "_".
func Vars(a *artifact.Artifact) []script.Var {
	vars := []script.Var{
		{Name: "IMGBUILD_ARTIFACT_ID", Value: a.ID()},
		{Name: "IMGBUILD_RUN_ID", Value: a.RunID},
	}
	for _, im := range a.Images {
		region := strings.ToUpper(strings.ReplaceAll(im.Region, "-", "_"))
		vars = append(vars, script.Var{Name: "IMGBUILD_IMAGE_" + region, Value: im.ImageID})
	}
	return vars
}

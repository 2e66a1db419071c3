// Package manifest is the manifest post-processor: it writes a JSON file
// listing the artifacts of each build.
package manifest

import (
	"path/filepath"

	"github.com/imgbuild/imgbuild/internal/check"
)

// DefaultOutput is the default manifest path, Packer's name so existing
// tooling finds it.
const DefaultOutput = "packer-manifest.json"

// Config is the configuration of a post-processor "manifest" block.
type Config struct {
	// Output is the path of the manifest file; builds append to it.
	// Relative paths are relative to the template directory, like every
	// other path in imgbuild (Packer uses the working directory). Default:
	// "packer-manifest.json".
	Output string `hcl:"output"`
	// StripPath records only the base name of file artifacts. Default: false.
	StripPath bool `hcl:"strip_path"`
	// StripTime leaves out the build_time field. Default: false.
	StripTime bool `hcl:"strip_time"`
	// CustomData is recorded with each build's entry.
	CustomData map[string]string `hcl:"custom_data"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	if c.Output == "" {
		c.Output = DefaultOutput
	}
	if base := filepath.Base(c.Output); base == "." || base == string(filepath.Separator) || c.Output[len(c.Output)-1] == '/' {
		ctx.Errorf(check.Path("output"), "Invalid output", "output must name a file, not a directory: %q", c.Output)
	}
}

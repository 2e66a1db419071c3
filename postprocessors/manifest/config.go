// Package manifest is the manifest post-processor: it writes a JSON file
// listing the artifacts of each build.
package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"

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
	} else if !ctx.IsUnknown("output") {
		ctx.Check(check.Path("output"), "Unusable manifest output", existingManifest(check.Resolve(ctx.BaseDir, c.Output), c.Output))
	}
	for _, k := range slices.Sorted(maps.Keys(c.CustomData)) {
		ctx.Placeholders(check.Path("custom_data"), c.CustomData[k])
	}
}

// existingManifest checks the file at path (output as written, for
// messages) that a build appends its entry to: when it exists it must be
// a manifest file that parses, as the post-processor reads it after the
// image is made. A file that does not exist is created then.
func existingManifest(path, output string) error {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("output %q cannot be read, and each build adds its entry to it: %w", output, err)
	}
	var m file
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("output %q exists and is not a manifest (%v); each build adds its entry to it: remove the file or choose another output", output, err)
	}
	return nil
}

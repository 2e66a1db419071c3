// Package file is the file provisioner: it uploads files and directories
// to the instance, or downloads them from it.
package file

import "github.com/imgbuild/imgbuild/internal/check"

// Directions of a transfer.
const (
	Upload   = "upload"
	Download = "download"
)

// Config is the configuration of a provisioner "file" block.
type Config struct {
	// Content is written to destination as a file, instead of copying a
	// source. Only with direction "upload".
	Content string `hcl:"content"`
	// Source is the path to copy from: local for uploads (it must exist
	// unless generated is true; a directory ending in "/" copies its
	// contents), remote for downloads.
	Source string `hcl:"source" fingerprint:"file"`
	// Sources are several local paths to upload to the destination directory.
	Sources []string `hcl:"sources" fingerprint:"file"`
	// Destination is the path to copy to: remote for uploads, local for
	// downloads. Required.
	Destination string `hcl:"destination" required:"true"`
	// Direction is "upload" (default) or "download".
	Direction string `hcl:"direction"`
	// Generated says the source is created during the build (for example
	// by shell-local), so it is not checked before the build. Default: false.
	Generated bool `hcl:"generated"`
}

// Prepare fills defaults and checks the configuration offline. After it,
// Sources holds Source too.
func (c *Config) Prepare(ctx *check.Context) {
	if c.Direction == "" {
		c.Direction = Upload
	}
	ctx.Enum(check.Path("direction"), c.Direction, Upload, Download)
	hasContent := ctx.Set(c.Content != "", "content")
	hasSource := ctx.Set(c.Source != "" || len(c.Sources) > 0, "source") || ctx.IsUnknown("sources")
	switch {
	case hasContent && hasSource:
		ctx.Errorf(check.Path("content"), "Conflicting file sources", "Set content, or source/sources, not both.")
	case !hasContent && !hasSource:
		ctx.Errorf(check.Path("source"), "Missing file source", "Set source, sources or content.")
	}
	if c.Source != "" {
		c.Sources = append([]string{c.Source}, c.Sources...)
	}
	if c.Direction == Download {
		if hasContent {
			ctx.Errorf(check.Path("content"), "content with download", "content is only valid with direction = \"upload\".")
		}
		if len(c.Sources) > 1 {
			ctx.Errorf(check.Path("sources"), "Too many sources for download", "A download copies one remote source; found %d.", len(c.Sources))
		}
		return
	}
	if c.Generated {
		return
	}
	for _, s := range c.Sources {
		attr := "sources"
		if s == c.Source {
			attr = "source"
		}
		ctx.Check(check.Path(attr), "File not found for "+attr, check.PathExists(ctx.BaseDir, s))
	}
}

// Package retention is the retention post-processor: in every region of
// an artifact it keeps the newest images of the build's recipe and
// deprecates, then deregisters, the older ones with their snapshots.
//
// The images of a recipe are the account's own images tagged
// imgbuild:recipe with the full build name and imgbuild:complete. The
// artifact's own images are always kept and count toward keep. An image
// used by an instance that is not terminated, or by the default version of
// a launch template in its region, is kept and reported; so is, instead
// of being deleted, an image with deregistration protection.
package retention

import (
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/postprocessors/internal/regional"
)

// Config is the configuration of a post-processor "retention" block.
type Config struct {
	regional.Access

	// Keep is the number of images of the recipe to keep in each region,
	// newest first by creation date, the artifact's own included. At
	// least 1. Required.
	Keep int `hcl:"keep" required:"true"`
	// DeprecateAfter is how long after the run an image beyond keep is
	// deprecated (EC2 image deprecation: hidden from other accounts'
	// listings, still launchable), e.g. "168h". Default: "0s", at once
	// (in a minute: EC2 takes future times only).
	DeprecateAfter string `hcl:"deprecate_after"`
	// Delete deregisters an image beyond keep and deletes its snapshots
	// once its deprecation time has passed, at once when deprecate_after
	// is 0. Default: false (deprecate only).
	Delete bool `hcl:"delete"`
}

// Prepare checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.Access.Prepare(ctx)
	if c.Keep < 1 && !ctx.IsUnknown("keep") {
		ctx.Errorf(check.Path("keep"), "Invalid value for keep", "keep must be 1 or more (the image just built is always kept), got %d", c.Keep)
	}
	ctx.DurationAttr(check.Path("deprecate_after"), c.DeprecateAfter)
	if d := check.DurationValue(c.DeprecateAfter); d > 10*365*24*time.Hour {
		ctx.Errorf(check.Path("deprecate_after"), "Invalid duration for deprecate_after", "EC2 deprecates at most 10 years ahead, got %s", c.DeprecateAfter)
	}
}

package amazon

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/check"
)

// hintRegion says where a region can come from when none is found.
const hintRegion = "Set region in the block, or AWS_REGION (or AWS_DEFAULT_REGION) in the environment, " +
	"or region in the shared config file (~/.aws/config, or the file AWS_CONFIG_FILE names) " +
	"for the profile (profile, else AWS_PROFILE, else \"default\")."

// PrepareRegion fills region when the template leaves it out, as Packer
// does: from AWS_REGION or AWS_DEFAULT_REGION, else from the shared config
// file's profile, exactly as the AWS SDK resolves it. It reads only the
// environment and local files, so validate and build see the same region,
// and everything downstream (plan, tags, copies, journal, cleanup) uses
// the resolved one. With no region anywhere it records an error at the
// block. Call it after Prepare, from what needs a region: the builders
// and the data sources (post-processors act in the artifact's regions).
func (c *AccessConfig) PrepareRegion(ctx *check.Context) {
	if c.Region != "" || ctx.IsUnknown("region") || ctx.IsUnknown("profile") || ctx.IsUnknown("shared_credentials_file") {
		return
	}
	region, err := awsapi.ResolveRegion(context.Background(), c.Access())
	switch {
	case err != nil:
		ctx.Errorf(check.Path("region"), "Missing region", "region is not set and the AWS configuration could not be read: %v. %s", err, hintRegion)
	case region == "":
		ctx.Errorf(check.Path("region"), "Missing region", "region is not set and neither the environment nor the shared config file gives one. %s", hintRegion)
	default:
		ctx.Check(check.Path("region"), "Invalid region", check.Region(region))
		c.Region = region
	}
}

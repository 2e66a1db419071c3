package amazonami

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// Filter returns the AMI selection c describes.
func (c *Config) Filter() Filter {
	return Filter{
		Filters:           maps.Clone(c.Filters),
		Owners:            slices.Clone(c.Owners),
		MostRecent:        c.MostRecent,
		IncludeDeprecated: c.IncludeDeprecated,
	}
}

// Evaluate resolves the data source: it finds the AMI cfg selects in
// cfg's region (the session's default region when cfg has none) and
// returns its Output as a value of OutputType. Errors name the region.
func Evaluate(ctx context.Context, sess *awsapi.Session, cfg *Config) (cty.Value, error) {
	region := cfg.Region
	if region == "" {
		region = sess.Region()
	}
	img, err := Find(ctx, sess.EC2(region), cfg.Filter())
	if err != nil {
		return cty.NilVal, fmt.Errorf("search %s: %w", region, err)
	}
	return FromImage(img).CtyValue(), nil
}

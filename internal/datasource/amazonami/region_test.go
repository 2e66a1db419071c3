package amazonami

import (
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// Without region the data source queries the region the environment or
// the shared config profile gives, as Packer's does; with none, validate
// says what to set.
func TestConfigRegionDefault(t *testing.T) {
	testenv.RegionFromEnvironment(t, func() (string, hcl.Diagnostics) {
		c := Config{Filters: map[string]string{"name": "x"}, Owners: []string{"self"}}
		ctx := &check.Context{}
		c.Prepare(ctx)
		return c.Region, ctx.Diags
	})
}

package amazonami

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

// Without region the data source queries the region the environment or
// the shared config profile gives, as Packer's does; with none, validate
// says what to set.
func TestConfigRegionDefault(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", dir)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfgFile := filepath.Join(dir, "config")
	t.Setenv("AWS_CONFIG_FILE", cfgFile)

	c := Config{Filters: map[string]string{"name": "x"}, Owners: []string{"self"}}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if !ctx.HasErrors() || !strings.Contains(ctx.Diags.Error(), "Missing region") || !strings.Contains(ctx.Diags[0].Detail, "AWS_REGION") {
		t.Fatalf("no region anywhere: diagnostics %v, want Missing region naming AWS_REGION", ctx.Diags)
	}

	if err := os.WriteFile(cfgFile, []byte("[profile ci]\nregion = eu-north-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_PROFILE", "ci")
	c = Config{Filters: map[string]string{"name": "x"}, Owners: []string{"self"}}
	ctx = &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() || c.Region != "eu-north-1" {
		t.Fatalf("AWS_PROFILE: region %q, diagnostics %v; want eu-north-1", c.Region, ctx.Diags)
	}

	t.Setenv("AWS_REGION", "ca-central-1")
	c = Config{Filters: map[string]string{"name": "x"}, Owners: []string{"self"}}
	ctx = &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() || c.Region != "ca-central-1" {
		t.Fatalf("AWS_REGION: region %q, diagnostics %v; want ca-central-1", c.Region, ctx.Diags)
	}
}

package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// RegionFromEnvironment checks a component that takes its region from the
// environment or the shared config profile when its block leaves region
// out, as Packer's do. prepare checks a fresh block without region and
// returns the region it settled on and its diagnostics. With no region
// anywhere the diagnostics must say Missing region and name AWS_REGION;
// then AWS_PROFILE's profile gives it, and AWS_REGION comes before that.
// The test's environment (HOME, the AWS_ variables) is its own.
func RegionFromEnvironment(t *testing.T, prepare func() (string, hcl.Diagnostics)) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", dir)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfgFile := filepath.Join(dir, "config")
	t.Setenv("AWS_CONFIG_FILE", cfgFile)

	if _, diags := prepare(); !diags.HasErrors() || !strings.Contains(diags.Error(), "Missing region") || !strings.Contains(diags[0].Detail, "AWS_REGION") {
		t.Fatalf("no region anywhere: diagnostics %v, want Missing region naming AWS_REGION", diags)
	}

	if err := os.WriteFile(cfgFile, []byte("[profile ci]\nregion = eu-north-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_PROFILE", "ci")
	if region, diags := prepare(); diags.HasErrors() || region != "eu-north-1" {
		t.Fatalf("AWS_PROFILE: region %q, diagnostics %v; want eu-north-1", region, diags)
	}

	t.Setenv("AWS_REGION", "ca-central-1")
	if region, diags := prepare(); diags.HasErrors() || region != "ca-central-1" {
		t.Fatalf("AWS_REGION: region %q, diagnostics %v; want ca-central-1", region, diags)
	}
}

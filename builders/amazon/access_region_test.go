package amazon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

// awsEnv isolates the test from the machine's AWS settings: no region or
// profile variables, HOME and the shared files in a temporary directory.
// It returns the path of the (not yet written) shared config file.
func awsEnv(t *testing.T) string {
	dir := t.TempDir()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_DEFAULTS_MODE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return filepath.Join(dir, "config")
}

const sharedConfig = `[default]
region = eu-west-1

[profile build]
region = ap-southeast-2

[profile noregion]
output = json
`

func TestPrepareRegion(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		config   string // shared config file content; "" writes none
		region   string // the template's region
		profile  string // the template's profile
		want     string
		wantDiag string
	}{
		{name: "template wins", env: map[string]string{"AWS_REGION": "us-west-2"}, config: sharedConfig, region: "us-east-1", want: "us-east-1"},
		{name: "AWS_REGION", env: map[string]string{"AWS_REGION": "us-west-2"}, config: sharedConfig, want: "us-west-2"},
		{name: "AWS_DEFAULT_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "us-west-1"}, want: "us-west-1"},
		{name: "AWS_REGION before AWS_DEFAULT_REGION", env: map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "us-west-1"}, want: "us-west-2"},
		{name: "default profile", config: sharedConfig, want: "eu-west-1"},
		{name: "profile setting", config: sharedConfig, profile: "build", want: "ap-southeast-2"},
		{name: "AWS_PROFILE", env: map[string]string{"AWS_PROFILE": "build"}, config: sharedConfig, want: "ap-southeast-2"},
		{name: "profile setting before AWS_PROFILE", env: map[string]string{"AWS_PROFILE": "noregion"}, config: sharedConfig, profile: "build", want: "ap-southeast-2"},
		{name: "nothing", wantDiag: "neither the environment nor the shared config file"},
		{name: "profile without region", config: sharedConfig, profile: "noregion", wantDiag: "neither the environment"},
		{name: "missing profile", config: sharedConfig, profile: "nosuch", wantDiag: "could not be read"},
		{name: "invalid resolved region", env: map[string]string{"AWS_REGION": "mars-1"}, wantDiag: "mars-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgFile := awsEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.config != "" {
				if err := os.WriteFile(cfgFile, []byte(tt.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c := AccessConfig{Region: tt.region, Profile: tt.profile}
			ctx := &check.Context{}
			c.PrepareRegion(ctx)
			if tt.wantDiag != "" {
				if !ctx.HasErrors() || !strings.Contains(ctx.Diags.Error(), tt.wantDiag) {
					t.Fatalf("diagnostics %v, want one containing %q", ctx.Diags, tt.wantDiag)
				}
				if tt.wantDiag != "mars-1" && !strings.Contains(ctx.Diags[0].Detail, "AWS_REGION") {
					t.Errorf("the diagnostic does not say what to set: %s", ctx.Diags[0].Detail)
				}
				return
			}
			if ctx.HasErrors() {
				t.Fatal(ctx.Diags)
			}
			if c.Region != tt.want {
				t.Errorf("region = %q, want %q", c.Region, tt.want)
			}
		})
	}
}

// An unknown region or profile (a data source's output) is left for the
// build: validate must not report it missing.
func TestPrepareRegionUnknown(t *testing.T) {
	awsEnv(t)
	for _, path := range []string{"region", "profile"} {
		c := AccessConfig{}
		ctx := &check.Context{Unknown: map[string]bool{path: true}}
		c.PrepareRegion(ctx)
		if ctx.HasErrors() || c.Region != "" {
			t.Errorf("unknown %s: region %q, diagnostics %v", path, c.Region, ctx.Diags)
		}
	}
}

// A source without region builds in the resolved region: every use of the
// region (ami_regions, the build region) sees it.
func TestSourceConfigResolvedRegion(t *testing.T) {
	awsEnv(t)
	t.Setenv("AWS_REGION", "eu-west-1")
	c := valid()
	c.Region = ""
	c.AMIRegions = []string{"us-east-1", "eu-west-1"}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	if got := strings.Join(c.ImageRegions(), ","); got != "eu-west-1,us-east-1" {
		t.Errorf("ImageRegions = %s, want eu-west-1,us-east-1", got)
	}
	if _, region := c.ParentBuild(); region != "eu-west-1" {
		t.Errorf("build region %q, want eu-west-1", region)
	}
	if c.Access().Region != "eu-west-1" {
		t.Errorf("session region %q", c.Access().Region)
	}
}

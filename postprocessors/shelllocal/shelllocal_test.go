package shelllocal

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
)

func TestPostProcessSeesArtifact(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the command is POSIX shell")
	}
	a := &artifact.Artifact{
		BuildName: "web.amazon-ebs.al2023", BuilderType: "amazon-ebs", RunID: "run-1",
		Images: []artifact.Image{{Region: "us-east-1", ImageID: "ami-1"}, {Region: "eu-west-1", ImageID: "ami-2"}},
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"artifact", nil, "web.amazon-ebs.al2023 amazon-ebs|eu-west-1:ami-2,us-east-1:ami-1|run-1|ami-1 ami-2\n"},
		{"env overrides", map[string]string{"IMGBUILD_RUN_ID": "mine"}, "|mine|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.Command = `echo "$PACKER_BUILD_NAME $PACKER_BUILDER_TYPE|$IMGBUILD_ARTIFACT_ID|$IMGBUILD_RUN_ID|$IMGBUILD_IMAGE_US_EAST_1 $IMGBUILD_IMAGE_EU_WEST_1"`
			c.Env.Env = tt.env
			ctx := &check.Context{}
			c.Prepare(ctx)
			if ctx.HasErrors() {
				t.Fatal(ctx.Diags)
			}
			var out bytes.Buffer
			got, err := c.PostProcess(context.Background(), &artifact.Env{Out: &out, BaseDir: t.TempDir()}, a)
			if err != nil {
				t.Fatal(err)
			}
			if got != a {
				t.Error("PostProcess did not return its input artifact")
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output %q, want it to contain %q", out.String(), tt.want)
			}
		})
	}
}

func TestPostProcessFails(t *testing.T) {
	var c Config
	c.Command = "exit 2"
	c.Prepare(&check.Context{})
	a := &artifact.Artifact{BuildName: "b"}
	got, err := c.PostProcess(context.Background(), &artifact.Env{}, a)
	if got != a || err == nil || !strings.Contains(err.Error(), "exited with status 2") {
		t.Errorf("PostProcess = %v, %v; want the artifact and an exit status error", got, err)
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// TestLocalcloudPublishImage: `imgbuild localcloud publish-image` asks the
// cloud of AWS_ENDPOINT_URL for a newer build of a public image and prints
// its ID per region; without a cloud to talk to it is a usage error.
func TestLocalcloudPublishImage(t *testing.T) {
	t.Parallel()
	s, _ := localcloud.ProfileSettings(localcloud.Instant)
	s.SSH = false
	cloud := testenv.LocalCloud(t, s)
	run := func(endpoint string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string {
			if k == "AWS_ENDPOINT_URL" {
				return endpoint
			}
			return ""
		}}
		e.ui = ui.New(e.stdout, e.stderr)
		code := runLocalcloud(context.Background(), e, append([]string{"publish-image"}, args...))
		return code, stdout.String(), stderr.String()
	}
	args := []string{"--like", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-",
		"--name", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241211", "--regions", "us-east-1,eu-west-1"}
	code, out, errOut := run(cloud.URL(), args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "eu-west-1\tami-") || !strings.HasPrefix(lines[1], "us-east-1\tami-") {
		t.Errorf("output %q, want the image per region", out)
	}
	if code, _, errOut := run("", args...); code != exitUsage || !strings.Contains(errOut, "AWS_ENDPOINT_URL") {
		t.Errorf("without a cloud: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(cloud.URL(), "--like", "nothing-like-it", "--name", "x", "--regions", "us-east-1"); code != exitFailed || !strings.Contains(errOut, "no public image named nothing-like-it") {
		t.Errorf("unknown like: exit %d, %q", code, errOut)
	}
}

package powershell

import (
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision/provisiontest"
)

// TestPauseAfter: pause_after waits after the scripts succeeded, saying
// so, as Packer's powershell provisioner does; after a failure there is
// no pause. The bubble's clock is virtual, so the pause passes at once.
func TestPauseAfter(t *testing.T) {
	for _, status := range []int{0, 5} {
		synctest.Test(t, func(t *testing.T) {
			f := provisiontest.NewComm()
			f.Answer = func(string, io.Writer) (int, error) { return status, nil }
			var c Config
			c.Inline, c.PauseAfter = []string{"Write-Output hi"}, "90s"
			start := time.Now()
			out, err := runPS(t, f, &c, "")
			paused := time.Since(start)
			switch {
			case status == 0 && (err != nil || paused != 90*time.Second || !strings.Contains(out, "Pausing 1m30s after this provisioner...")):
				t.Errorf("success: error %v, paused %v, output %q; want a 90s pause", err, paused, out)
			case status != 0 && (err == nil || paused != 0 || strings.Contains(out, "Pausing")):
				t.Errorf("failure: error %v, paused %v, output %q; want no pause", err, paused, out)
			}
		})
	}
	c := Config{PauseAfter: "later"}
	c.Inline = []string{"x"}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if !strings.Contains(ctx.Diags.Error(), "pause_after") {
		t.Errorf("invalid pause_after: diagnostics %v", ctx.Diags)
	}
}

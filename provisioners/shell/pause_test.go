package shell

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
)

// TestPauseAfter: pause_after waits after the scripts succeeded, saying
// so, as Packer's does; after a failure there is no pause. The bubble's
// clock is virtual, so the hour passes at once.
func TestPauseAfter(t *testing.T) {
	tests := []struct {
		name   string
		inline []string
		pause  string
		want   time.Duration
	}{
		{"pauses after success", []string{"echo done"}, "1h", time.Hour},
		{"no pause after a failure", []string{"echo done", "exit 4"}, "1h", 0},
		{"unset: no pause", []string{"echo done"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var c Config
				c.Inline, c.PauseAfter = tt.inline, tt.pause
				start := time.Now()
				out, err := runShell(t, newFake(t), &c, "")
				if got := time.Since(start); got != tt.want {
					t.Errorf("paused %v, want %v", got, tt.want)
				}
				failed := len(tt.inline) > 1
				if failed != (err != nil) {
					t.Fatalf("error %v", err)
				}
				paused := strings.Contains(out, "Pausing 1h0m0s after this provisioner...")
				if paused != (tt.want > 0) || (paused && !strings.HasSuffix(out, "done\nPausing 1h0m0s after this provisioner...\n")) {
					t.Errorf("output %q", out)
				}
			})
		})
	}
}

func TestPauseAfterInvalid(t *testing.T) {
	c := Config{PauseAfter: "soon"}
	c.Inline = []string{"true"}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if !ctx.HasErrors() || !strings.Contains(ctx.Diags.Error(), "pause_after") {
		t.Errorf("diagnostics %v, want one about pause_after", ctx.Diags)
	}
}

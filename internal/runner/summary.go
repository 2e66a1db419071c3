package runner

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/ui"
)

// WriteSummary prints the end-of-run summary: every build's outcome and
// duration, its image per region, and anything cleanup may have left.
func WriteSummary(u *ui.UI, res *Result) {
	u.Say("")
	if res.Interrupted {
		u.Say("==> Run %s interrupted after %s.", res.RunID, round(res.Duration))
	} else {
		u.Say("==> Run %s finished in %s.", res.RunID, round(res.Duration))
	}
	for _, b := range res.Builds {
		writeBuild(u, b)
		if b.Artifact != nil {
			u.Event(b.Name, "artifact", b.Artifact.BuilderType, "id", b.Artifact.ID())
		}
	}
	if res.CleanupAbandoned || anyLeftover(res) {
		u.Say("")
		u.Say("Some resources may be left behind. Remove them with:")
		u.Say("    imgbuild cleanup --run %s", res.RunID)
	}
}

func writeBuild(u *ui.UI, b *BuildResult) {
	switch {
	case b.OK && b.Artifact != nil && b.Artifact.Status == artifact.StatusUpToDate:
		u.Say("--> %s: up to date", b.Name)
		for _, im := range b.Artifact.Images {
			u.Say("    %s: %s", im.Region, im.ImageID)
		}
	case b.OK:
		what := "succeeded"
		if b.Artifact != nil && b.Artifact.Status == artifact.StatusCompleted {
			what = "completed"
		}
		u.Say("--> %s: %s in %s", b.Name, what, round(b.Duration))
		if b.Artifact != nil {
			for _, im := range b.Artifact.Images {
				u.Say("    %s: %s", im.Region, im.ImageID)
			}
			if len(b.Artifact.Images) == 0 {
				u.Say("    no image (skip_create_ami)")
			}
		}
	case errors.Is(b.Err, ErrInterrupted):
		u.Say("--> %s: interrupted after %s", b.Name, round(b.Duration))
	default:
		u.Say("--> %s: failed after %s: %v", b.Name, round(b.Duration), b.Err)
	}
	if len(b.Leftover) > 0 {
		u.Say("    cleanup did not finish, so these may remain: %s", strings.Join(b.Leftover, "; "))
	} else if !b.OK {
		u.Say("    everything the build created was removed")
	}
}

func anyLeftover(res *Result) bool {
	for _, b := range res.Builds {
		if len(b.Leftover) > 0 {
			return true
		}
	}
	return false
}

func round(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// String describes a result in one line, for logs.
func (r *Result) String() string {
	ok := 0
	for _, b := range r.Builds {
		if b.OK {
			ok++
		}
	}
	return fmt.Sprintf("run %s: %d of %d builds succeeded", r.RunID, ok, len(r.Builds))
}

package runner

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/journal"
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
			u.Event(b.Name, "artifact-count", "1")
			u.ArtifactEvents(b.Name, 0, packerBuilderID(b.Artifact.BuilderType), b.Artifact.ID(), artifactString(b.Artifact))
		}
	}
	if res.CleanupAbandoned || anyLeftover(res) {
		u.Say("")
		u.Say("Some resources may be left behind. Remove them with:")
		writeLeftovers(u, res.Journal)
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

// packerBuilderID is the builder ID Packer's amazon builders give their
// artifacts, for machine-readable output and scripts that test it.
func packerBuilderID(builderType string) string {
	switch builderType {
	case "amazon-ebs":
		return "mitchellh.amazonebs"
	case "amazon-instance":
		return "mitchellh.amazon.instance"
	case "amazon-ebssurrogate":
		return "mitchellh.amazon.ebssurrogate"
	}
	return builderType
}

// artifactString is Packer's amazon artifact description: "AMIs were
// created:" and one "region: ami" line per image.
func artifactString(a *artifact.Artifact) string {
	var sb strings.Builder
	sb.WriteString("AMIs were created:\n")
	for _, im := range a.Images {
		fmt.Fprintf(&sb, "%s: %s\n", im.Region, im.ImageID)
	}
	return sb.String()
}

// writeLeftovers lists what the run's journal says may remain (after
// -on-error=abort, a second interrupt or a failed cleanup).
func writeLeftovers(u *ui.UI, path string) {
	if path == "" {
		return
	}
	run, err := journal.Read(path)
	if err != nil {
		return
	}
	for _, r := range run.Leftovers() {
		what := r.ID
		if what == "" {
			what = r.Name
		}
		u.Say("    (%s: %s %s, build %s)", r.Region, r.Type, what, r.Build)
	}
}

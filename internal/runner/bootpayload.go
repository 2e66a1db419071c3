package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// bootPayloadFile returns the name of a build's boot payload file: its
// full name (unique in a run) with ".user-data".
func bootPayloadFile(bp *plan.BuildPlan) string { return bp.Name + ".user-data" }

// writeBootPayload writes the build's boot payload, when its strategy
// deferred any provisioner, to dir/<full build name>.user-data (the runner
// passes the working directory, where relative paths such as the
// manifest's resolve; mode
// 0644: user data is readable by anyone on the instance anyway) and
// records it on a, as an absolute path: in Files and as BootPayload.
// Calling it again for the same artifact rewrites the file and records it
// once.
func writeBootPayload(bp *plan.BuildPlan, dir string, a *artifact.Artifact) error {
	if len(bp.BootPayload) == 0 || a == nil {
		return nil
	}
	path, err := filepath.Abs(filepath.Join(dir, bootPayloadFile(bp)))
	if err != nil {
		return fmt.Errorf("write the boot payload of %s: %w", bp.Name, err)
	}
	if err := os.WriteFile(path, bp.BootPayload, 0o644); err != nil {
		return fmt.Errorf("write the boot payload of %s: %w", bp.Name, err)
	}
	if !slices.Contains(a.Files, path) {
		a.Files = append(a.Files, path)
	}
	a.BootPayload = path
	return nil
}

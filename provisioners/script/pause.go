package script

import (
	"context"
	"fmt"
	"io"

	"github.com/imgbuild/imgbuild/internal/check"
)

// PauseAfter waits for pause_after (a duration Prepare has checked; ""
// means none) after a provisioner succeeded, saying so on out, as Packer's
// shell and powershell provisioners do. It returns early with ctx's error
// when ctx is done.
func PauseAfter(ctx context.Context, out io.Writer, pause string) error {
	d := check.DurationValue(pause)
	if d <= 0 {
		return nil
	}
	fmt.Fprintf(out, "Pausing %s after this provisioner...\n", d)
	if err := Sleep(ctx, d); err != nil {
		return fmt.Errorf("pause_after %s: %w", pause, err)
	}
	return nil
}

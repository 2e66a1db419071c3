package instance

import (
	"context"
	"errors"
	"testing"

	"github.com/imgbuild/imgbuild/internal/builder"
)

// TestBuilderRefuses checks that amazon-instance builds are refused, at
// plan and at start, with a clear error.
func TestBuilderRefuses(t *testing.T) {
	const want = "amazon-instance builds are not implemented yet"
	if err := (Builder{}).Plan(&Config{}, nil); err == nil || err.Error() != want {
		t.Errorf("Plan: %v", err)
	}
	b, err := (Builder{}).Start(context.Background(), &builder.Env{}, &Config{})
	if b != nil || !errors.Is(err, errNotImplemented) {
		t.Errorf("Start: %v, %v", b, err)
	}
}

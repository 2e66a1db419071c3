package steps

import (
	"context"
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/internal/lease"
)

// leaseTTL is how long a lease lasts without renewal; KeepAlive renews it
// every third of that while the run goes on.
const leaseTTL = 10 * time.Minute

// Lease takes the fingerprint's lease in the build region (an SSM
// parameter, see internal/lease) so that no other runner builds the same
// fingerprint meanwhile, waiting while another holds it; wait is told who
// holds it at each poll. It returns the release, which the runner calls
// when the run ends, on success, failure or interrupt. A lost lease (it
// expired and was taken over) is logged: the other runner may build the
// same images, which costs money but never mixes them.
func (b *build) Lease(ctx context.Context, fingerprint, holder string, wait func(holder string)) (func(context.Context) error, error) {
	// SSM parameter names take no ':' ("sha256:..." becomes "sha256-...").
	l, err := lease.Acquire(ctx, b.sess.SSM(b.cfg.Region), b.cfg.Region, strings.ReplaceAll(fingerprint, ":", "-"), holder, leaseTTL,
		func(h lease.Holder) { wait(h.String()) })
	if err != nil {
		return nil, err
	}
	lost := l.KeepAlive(context.WithoutCancel(ctx))
	go func() {
		for err := range lost {
			b.env.Logger.Warn("lease lost: another runner may build the same images", "lease", l.Name(), "error", err)
		}
	}()
	return l.Release, nil
}

package steps

import (
	"context"
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/lease"
)

// leaseTTL is how long a lease lasts without renewal; KeepAlive renews it
// every third of that while the run goes on.
const leaseTTL = 10 * time.Minute

// Lease takes the fingerprint's lease in the build region (an SSM
// parameter, see internal/lease) so that no other runner builds the same
// fingerprint meanwhile, waiting while another holds it; wait is told who
// holds it at each poll. The lease is journaled before it is asked for
// and tagged with the run tags, so that `imgbuild cleanup` removes it
// after a crash (while the crashed run still holds it). It returns the
// release, which the runner calls when the run ends, on success, failure
// or interrupt. A lost lease (it expired and was taken over) is logged:
// the other runner may build the same images, which costs money but never
// mixes them.
func (b *build) Lease(ctx context.Context, fingerprint, holder string, wait func(holder string)) (func(context.Context) error, error) {
	// SSM parameter names take no ':' ("sha256:..." becomes "sha256-...").
	fp := strings.ReplaceAll(fingerprint, ":", "-")
	name, region, run := lease.Name(fp), b.cfg.Region, b.env.RunTags()
	ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.Lease, Region: region, Build: b.env.BuildName, Name: name, Tags: run})
	if err != nil {
		return nil, err
	}
	l, err := lease.Acquire(ctx, b.sess.SSM(region), region, fp, holder, leaseTTL, func(h lease.Holder) { wait(h.String()) }, run)
	if err != nil {
		// Nothing of ours: Acquire fails only before its create, or
		// while it waits for another runner's lease.
		_ = b.env.Journal.NotCreated(ref)
		return nil, err
	}
	if err := b.env.Journal.Created(ref, name); err != nil {
		_ = l.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	lost := l.KeepAlive(context.WithoutCancel(ctx))
	go func() {
		for err := range lost {
			b.env.Logger.Warn("lease lost: another runner may build the same images", "lease", name, "error", err)
		}
	}()
	return func(ctx context.Context) error {
		if err := l.Release(ctx); err != nil {
			return err
		}
		return b.env.Journal.Deleted(journal.Lease, region, name)
	}, nil
}

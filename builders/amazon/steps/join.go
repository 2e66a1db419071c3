package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// join runs once every region is final: the whole build succeeded. It
// commits the final images, in an order that a crash at any point leaves
// either uncommitted (cleanup removes everything) or committed (the
// journal keeps them, and a tag sweep sees the complete tag on at least
// one of them, which keeps them all):
//
//  1. enable deregistration protection on every final image;
//  2. journal every final image and its snapshots as kept: the commit;
//  3. tag every final image and its snapshots tags.Complete, the
//     mirror of the commit for cleanups without the journal;
//  4. mark the build as succeeded, so that no cleanup removes them;
//  5. make the swaps (swap.go): in the regions where an old image had the
//     final name, the committed image has a temporary name; only now is
//     the old image deregistered and the new one copied to its name.
//
// The commit of steps 2 and 3 includes those temporary images.
// A failure or an interrupt before the build is marked succeeded fails
// the build, and the cleanups remove the images, lifting the complete
// tag when join may have set it. join creates nothing.
type join struct{ b *build }

// Run completes the build.
func (n *join) Run(ctx context.Context) error {
	b := n.b
	finals := b.finalImages()
	if err := eachImage(finals, func(img *imageRecord) error { return n.protect(ctx, img) }); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // interrupted: do not commit
	}
	committed := append(finals, b.swapTemps()...)
	for _, img := range committed {
		if err := n.keep(img); err != nil {
			return err
		}
	}
	if err := n.keepBundle(); err != nil {
		return err
	}
	complete := map[string]string{tags.Complete: time.Now().UTC().Format(time.RFC3339)}
	b.st.tagging.Store(true)
	// One image after the other, so that a kill at the first CreateTags
	// leaves none tagged. A kill between two leaves some tagged: a
	// journal cleanup tags the rest; a tag sweep keeps them all (the build
	// is finished) but does not tag the rest yet.
	for _, img := range committed {
		if err := n.tagComplete(ctx, img, complete); err != nil {
			return err
		}
	}
	b.st.succeeded.Store(true)
	if err := n.swapAll(ctx, complete); err != nil {
		return err
	}
	finals = b.finalImages()
	images := make([]artifact.Image, 0, len(finals))
	for _, img := range finals {
		images = append(images, artifact.Image{Region: img.Region, ImageID: img.ID, Snapshots: slices.Clone(img.Snapshots)})
	}
	b.st.artifact = b.newArtifact(b.existingImages(images))
	return nil
}

// protectTimeout bounds a protect call that an interrupt does not cut
// short.
const protectTimeout = time.Minute

// protect enables deregistration protection on a final image when the
// template asks for it. The call is not abandoned when ctx is done (an
// interrupt): EC2 may still carry out a request whose answer the client
// stopped waiting for, and a protection applied after the cleanup's
// DisableImageDeregistrationProtection would refuse its deregistration
// and leave the image behind. Run checks ctx once every call has
// answered.
func (n *join) protect(ctx context.Context, img *imageRecord) error {
	p := n.b.cfg.DeregistrationProtection
	if !p.Enabled {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), protectTimeout)
	defer cancel()
	if _, err := n.b.ec2(img.Region).EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{
		ImageId: aws.String(img.ID), WithCooldown: aws.Bool(p.WithCooldown),
	}, awsapi.RetryEventual); err != nil {
		return fmt.Errorf("protect image %s in %s from deregistration: %w", img.ID, img.Region, err)
	}
	return nil
}

// keep journals a final image and its snapshots as kept, and marks it so
// that no cleanup removes it.
func (n *join) keep(img *imageRecord) error {
	j := n.b.env.Journal
	if err := j.Kept(journal.Image, img.Region, img.ID); err != nil {
		return err
	}
	for _, s := range img.Snapshots {
		if err := j.Kept(journal.Snapshot, img.Region, s); err != nil {
			return err
		}
	}
	img.kept = true
	return nil
}

// keepBundle journals the objects of an instance-store bundle as kept:
// the images are registered from them.
func (n *join) keepBundle() error {
	rec := &n.b.st.bundle
	for _, id := range rec.list() {
		if err := n.b.env.Journal.Kept(journal.BucketObject, n.b.cfg.Region, id); err != nil {
			return err
		}
	}
	rec.kept = true
	return nil
}

// finalImages returns the final image of every region, sorted by region.
func (b *build) finalImages() []*imageRecord {
	var out []*imageRecord
	for _, r := range slices.Sorted(maps.Keys(b.st.finals)) {
		if img := b.st.finals[r]; img.valid() {
			out = append(out, img)
		}
	}
	return out
}

// newArtifact returns the artifact with images.
func (b *build) newArtifact(images []artifact.Image) *artifact.Artifact {
	src := b.st.source
	a := &artifact.Artifact{
		BuildName: b.env.BuildName, BuilderType: b.cfg.BuilderType, RunID: b.env.RunID,
		Source: artifact.Source{ImageID: src.ID, Name: src.Name, Owner: src.Owner, CreationDate: src.CreationDate, Tags: src.Tags},
		Images: images, Started: b.started, Duration: time.Since(b.started),
		Fingerprint: b.env.Fingerprint, Status: b.status(images),
	}
	a.Sort()
	return a
}

// status says how the artifact's images came to be: all made by this
// run, all taken up from before, or some of each.
func (b *build) status(images []artifact.Image) string {
	reused := 0
	for _, im := range images {
		if f, ok := b.st.existing[im.Region]; ok && f.ImageID == im.ImageID {
			reused++
		}
	}
	switch {
	case reused == 0:
		return artifact.StatusBuilt
	case reused == len(images):
		return artifact.StatusUpToDate
	}
	return artifact.StatusCompleted
}

// eachImage runs fn for every image at once (they are in different
// regions, each with its own rate limits) and returns the first error
// after all have returned.
func eachImage(imgs []*imageRecord, fn func(*imageRecord) error) error {
	var eg errgroup.Group
	for _, img := range imgs {
		eg.Go(func() error { return fn(img) })
	}
	return eg.Wait()
}

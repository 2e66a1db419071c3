package steps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// swap is the replacement of the old images of a region's final name
// (force_deregister) by the build's image of that region, made under a
// temporary name. finalizeRegion records it; join makes it once every
// region's new image is available and committed, so that a region that
// fails never costs another region its old image:
//
//  1. deregister the old images (and their snapshots with
//     force_delete_snapshot);
//  2. copy the temporary image to the final name in the region, journaled
//     before the wait like any create;
//  3. share it, set its lifecycle attributes, protect it, journal it kept
//     and tag it complete: the final image is committed;
//  4. remove the temporary image (lifting its complete tag), journaled.
//
// After a crash, imgbuild cleanup finds the temporary image kept (it never
// removes it) and the final copy, if any, kept after step 3 or removed as
// uncommitted before it: the new image is never lost, and an old image is
// only deregistered once the new one of every region is committed. A
// crash between steps 3 and 4 leaves both kept, the temporary one under
// its "<name>-imgbuild-<run8>" name.
type swap struct {
	temp *imageRecord  // the intermediate image or copy; nil when nothing is replaced
	olds []types.Image // the old images of the final name
	fin  *finalizeRegion
}

// swapTemps returns the temporary images of the regions with a swap,
// which join commits with the final images.
func (b *build) swapTemps() []*imageRecord {
	var out []*imageRecord
	for _, r := range slices.Sorted(maps.Keys(b.st.swaps)) {
		if sw := b.st.swaps[r]; sw.temp.valid() {
			out = append(out, sw.temp)
		}
	}
	return out
}

// swapAll makes every region's swap, concurrently: each region's only
// depends on its own committed image. It returns every region's error.
func (n *join) swapAll(ctx context.Context, complete map[string]string) error {
	var wg sync.WaitGroup
	regions := slices.Sorted(maps.Keys(n.b.st.swaps))
	errs := make([]error, len(regions))
	for i, r := range regions {
		if !n.b.st.swaps[r].temp.valid() {
			continue
		}
		wg.Go(func() { errs[i] = n.swapRegion(ctx, r, complete) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// swapRegion replaces the old images of region by the committed temporary
// image, as swap describes.
func (n *join) swapRegion(ctx context.Context, region string, complete map[string]string) error {
	b, sw := n.b, n.b.st.swaps[region]
	sw.fin = &finalizeRegion{b: b, region: region}
	if err := sw.fin.deregisterOld(ctx, sw.olds); err != nil {
		return n.kept(sw, err)
	}
	final := b.st.finals[region]
	if err := sw.fin.copyFinal(ctx, sw.temp, final); err != nil {
		return n.kept(sw, err)
	}
	if err := sw.fin.finish(ctx, final); err != nil {
		return n.kept(sw, err)
	}
	if err := n.protect(ctx, final); err != nil {
		return n.kept(sw, err)
	}
	if err := n.keep(final); err != nil {
		return n.kept(sw, err)
	}
	if err := n.tagComplete(ctx, final, complete); err != nil {
		return err // committed: the journal keeps it
	}
	b.say("%s: image %s (%s) replaces %s", region, final.ID, final.Name, imageIDs(sw.olds))
	return n.removeTemp(ctx, sw.temp)
}

// kept wraps the error of a swap that did not commit the final image:
// the new image stays under its temporary name.
func (n *join) kept(sw *swap, err error) error {
	return fmt.Errorf("%w; the new image is kept as %s (%q) in %s", err, sw.temp.ID, sw.temp.Name, sw.temp.Region)
}

// removeTemp removes a committed temporary image once its final copy is
// committed.
func (n *join) removeTemp(ctx context.Context, temp *imageRecord) error {
	if err := n.b.cleanupImage(ctx, temp); err != nil {
		return fmt.Errorf("remove the temporary image %s (%q) in %s, now copied to its final name: %w", temp.ID, temp.Name, temp.Region, err)
	}
	*temp = imageRecord{Region: temp.Region, Name: temp.Name}
	return nil
}

// tagComplete tags a committed image and its snapshots tags.Complete.
func (n *join) tagComplete(ctx context.Context, img *imageRecord, complete map[string]string) error {
	if _, err := n.b.ec2(img.Region).CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: append([]string{img.ID}, img.Snapshots...), Tags: ec2Tags(complete),
	}, awsapi.RetryEventual); err != nil {
		return fmt.Errorf("tag image %s in %s complete: %w", img.ID, img.Region, err)
	}
	return nil
}

// Cleanup removes a final image a swap made but did not commit; the
// committed temporary image stays.
func (n *join) Cleanup(ctx context.Context) error {
	var errs []error
	for _, r := range slices.Sorted(maps.Keys(n.b.st.swaps)) {
		if f := n.b.st.swaps[r].fin; f != nil && f.made != nil && !f.made.kept {
			errs = append(errs, n.b.cleanupImage(ctx, f.made))
		}
	}
	return errors.Join(errs...)
}

// imageIDs returns the IDs of imgs.
func imageIDs(imgs []types.Image) []string {
	out := make([]string, 0, len(imgs))
	for _, img := range imgs {
		out = append(out, aws.ToString(img.ImageId))
	}
	return out
}

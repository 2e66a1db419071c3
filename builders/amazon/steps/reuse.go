package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
)

// Reuse is the kind of the step that takes up the images of the build's
// fingerprint that exist already.
const Reuse builder.StepKind = "reuse"

// PlanExisting plans a build whose fingerprint has images already
// (Planner.Existing): with an image in every region it keeps one in, a
// single step that takes them up and makes no AWS call; otherwise that
// step, then a copy and a finalisation per missing region from a region
// that has it (the build region when it can), then a join. It returns the
// last step, or nil when the build must make its image.
func PlanExisting(p builder.Planner, src *amazon.SourceConfig) *builder.Step {
	existing := p.Existing()
	if len(existing) == 0 {
		return nil
	}
	kept := KeptRegions(src)
	var missing []string
	for _, r := range kept {
		if _, ok := existing[r]; !ok {
			missing = append(missing, r)
		}
	}
	from := completionSource(src.Region, kept, existing)
	f := existing[from]
	label := fmt.Sprintf("up to date: %s built %s", f.ImageID, f.Created.UTC().Format("2006-01-02"))
	if len(missing) > 0 {
		label = fmt.Sprintf("completing %s from %s (%s built %s)", strings.Join(missing, ", "), from, f.ImageID,
			f.Created.UTC().Format("2006-01-02"))
	}
	reuse := p.Add(&builder.Step{ID: string(Reuse), Kind: Reuse, Region: from, Label: label})
	if len(missing) == 0 {
		return reuse
	}
	var finals []*builder.Step
	for _, r := range missing {
		cp := p.Add(&builder.Step{ID: string(CopyImage) + ":" + r, Kind: CopyImage, Region: r, ImageIn: r,
			Label:   "copy image from " + from + " to " + r + " and wait until available",
			Cleanup: "deregister the copy in " + r + " and delete its snapshots if the build did not succeed", CleanupOnFailure: true}, reuse)
		finals = append(finals, p.Add(&builder.Step{ID: string(Finalize) + ":" + r, Kind: Finalize, Region: r,
			Label: "tag, share, deprecate and protect the image in " + r}, cp))
	}
	return p.Add(&builder.Step{ID: string(Join), Kind: Join, Label: "image ready in every region"}, finals...)
}

// completionSource returns the region to copy missing regions from: the
// build region when it has the image, else the first kept region that
// has it.
func completionSource(buildRegion string, kept []string, existing map[string]builder.Found) string {
	if _, ok := existing[buildRegion]; ok {
		return buildRegion
	}
	for _, r := range kept {
		if _, ok := existing[r]; ok {
			return r
		}
	}
	// Images in regions the build no longer keeps only: any of them.
	regions := make([]string, 0, len(existing))
	for r := range existing {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	return regions[0]
}

// reuse takes up the existing images: the one copies start from becomes
// the build's image, and with nothing missing the artifact is complete.
// It makes no AWS call and creates nothing; the images are not the run's
// and no cleanup touches them.
type reuse struct {
	b      *build
	region string
}

// Run records the existing images.
func (n *reuse) Run(context.Context) error {
	b := n.b
	f := b.st.existing[n.region]
	b.st.built = imageRecord{Region: n.region, ID: f.ImageID, Snapshots: slices.Clone(f.Snapshots), kept: true}
	var missing []string
	for _, r := range KeptRegions(&b.cfg.SourceConfig) {
		if _, ok := b.st.existing[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		b.say("completing %s from %s (%s built %s)", strings.Join(missing, ", "), n.region, f.ImageID, f.Created.UTC().Format("2006-01-02"))
		return nil // join completes the artifact
	}
	b.say("up to date: %s built %s", f.ImageID, f.Created.UTC().Format("2006-01-02"))
	b.st.succeeded.Store(true)
	b.st.artifact = b.newArtifact(b.existingImages(nil))
	return nil
}

// existingImages returns the images that existed before the run in the
// regions the build keeps an image in and that have no image in made.
func (b *build) existingImages(made []artifact.Image) []artifact.Image {
	have := map[string]bool{}
	for _, im := range made {
		have[im.Region] = true
	}
	out := made
	for _, r := range KeptRegions(&b.cfg.SourceConfig) {
		if f, ok := b.st.existing[r]; ok && !have[r] {
			out = append(out, artifact.Image{Region: r, ImageID: f.ImageID, Snapshots: slices.Clone(f.Snapshots)})
		}
	}
	return out
}

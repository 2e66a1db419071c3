package ebsbuild

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// join runs once every region is final: the whole build succeeded. It
// tags each final image and its snapshots builder.TagComplete, enables
// deregistration protection, journals them as kept, marks the build as
// succeeded (so no cleanup removes them) and fills the artifact. It
// creates nothing.
type join struct{ b *build }

// Run completes the build.
func (n *join) Run(ctx context.Context) error {
	b := n.b
	finals := b.finalImages()
	complete := map[string]string{builder.TagComplete: time.Now().UTC().Format(time.RFC3339)}
	for _, img := range finals {
		if err := n.complete(ctx, img, complete); err != nil {
			return err
		}
	}
	for _, img := range finals {
		if err := b.env.Journal.Kept(journal.Image, img.Region, img.ID); err != nil {
			return err
		}
		for _, s := range img.Snapshots {
			if err := b.env.Journal.Kept(journal.Snapshot, img.Region, s); err != nil {
				return err
			}
		}
	}
	b.st.succeeded.Store(true)
	images := make([]artifact.Image, 0, len(finals))
	for _, img := range finals {
		images = append(images, artifact.Image{Region: img.Region, ImageID: img.ID, Snapshots: slices.Clone(img.Snapshots)})
	}
	b.st.artifact = b.newArtifact(images)
	return nil
}

// complete tags one final image and its snapshots and protects the image.
func (n *join) complete(ctx context.Context, img *imageRecord, tags map[string]string) error {
	b := n.b
	c := b.ec2(img.Region)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: append([]string{img.ID}, img.Snapshots...), Tags: ec2Tags(tags),
	}, awsapi.RetryEventual); err != nil {
		return fmt.Errorf("tag image %s in %s complete: %w", img.ID, img.Region, err)
	}
	p := b.cfg.DeregistrationProtection
	if !p.Enabled {
		return nil
	}
	if _, err := c.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{
		ImageId: aws.String(img.ID), WithCooldown: aws.Bool(p.WithCooldown),
	}, awsapi.RetryEventual); err != nil {
		return fmt.Errorf("protect image %s in %s from deregistration: %w", img.ID, img.Region, err)
	}
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
		BuildName: b.env.BuildName, BuilderType: BuilderType, RunID: b.env.RunID,
		Source: artifact.Source{ImageID: src.ID, Name: src.Name, Owner: src.Owner, CreationDate: src.CreationDate, Tags: src.Tags},
		Images: images, Started: b.started, Duration: time.Since(b.started),
	}
	a.Sort()
	return a
}

package retention

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/postprocessors/internal/regional"
)

var (
	_ artifact.PostProcessor = (*Config)(nil)
	_ artifact.Planner       = (*Config)(nil)
)

// client is what retention needs in one region.
type client interface {
	lister
	usageReader
	retirer
}

// PostProcess retires the images of a's recipe beyond keep in every
// region of a, prints one line per action and per image kept because it
// is in use or protected, and returns a unchanged.
func (c *Config) PostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) (*artifact.Artifact, error) {
	lines, err := c.run(ctx, env, a, true)
	regional.Print(env, "retention", lines)
	return a, err
}

// PlanPostProcess returns the actions PostProcess would take, changing
// nothing.
func (c *Config) PlanPostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) ([]string, error) {
	return c.run(ctx, env, a, false)
}

func (c *Config) run(ctx context.Context, env *artifact.Env, a *artifact.Artifact, apply bool) ([]string, error) {
	if len(a.Images) == 0 {
		return nil, nil
	}
	sess, err := c.Session(ctx, env, a)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if env != nil && !env.Now.IsZero() {
		now = env.Now
	}
	per, err := regional.Each(ctx, a, func(ctx context.Context, im artifact.Image) ([]string, error) {
		acts, notes, err := c.decide(ctx, sess.EC2(im.Region), a.BuildName, im, now)
		if err != nil || !apply {
			return lines(acts), err
		}
		out := notes
		for _, act := range acts {
			if err := act.do(ctx); err != nil {
				return out, err
			}
			out = append(out, act.line)
		}
		return out, nil
	})
	return regional.Lines(per), err
}

// action is one change to one image.
type action struct {
	line string
	do   func(ctx context.Context) error
}

func lines(acts []action) []string {
	var out []string
	for _, a := range acts {
		out = append(out, a.line)
	}
	return out
}

// decide lists the recipe's images in im's region and returns the
// actions that retire those beyond keep, and notes on the images it keeps
// although they are beyond keep.
func (c *Config) decide(ctx context.Context, cl client, recipe string, im artifact.Image, now time.Time) ([]action, []string, error) {
	all, err := recipeImages(ctx, cl, im.Region, recipe)
	if err != nil {
		return nil, nil, err
	}
	todo := c.retirements(c.beyondKeep(all, im), now)
	if len(todo) == 0 {
		return nil, nil, nil
	}
	ids := make([]string, len(todo))
	for i, p := range todo {
		ids[i] = aws.ToString(p.img.ImageId)
	}
	inUse, err := usedImages(ctx, cl, im.Region, ids)
	if err != nil {
		return nil, nil, err
	}
	var acts []action
	var notes []string
	for _, p := range todo {
		id := aws.ToString(p.img.ImageId)
		label := fmt.Sprintf("%s (%s) in %s", id, created(p.img), im.Region)
		if why := inUse[id]; why != "" {
			notes = append(notes, fmt.Sprintf("kept %s: %s", label, why))
			continue
		}
		if p.delete && protected(p.img) {
			notes = append(notes, fmt.Sprintf("kept %s: deregistration protection is enabled", label))
			continue
		}
		if p.delete {
			acts = append(acts, deleteAction(cl, im.Region, p.img, label))
			continue
		}
		acts = append(acts, deprecateAction(cl, im.Region, p.img, label, p.deprecateAt))
	}
	return acts, notes, nil
}

// retirement is what to do with one image beyond keep.
type retirement struct {
	img         types.Image
	delete      bool      // deregister it and delete its snapshots
	deprecateAt time.Time // else deprecate it at this time
}

// retirements decides, for each image beyond keep, whether to delete or
// deprecate it now; images waiting for their deprecation time to pass
// are left out.
func (c *Config) retirements(candidates []types.Image, now time.Time) []retirement {
	after := check.DurationValue(c.DeprecateAfter)
	deprecateAt := deprecationTime(now, after)
	var todo []retirement
	for _, img := range candidates {
		dep, deprecated := deprecation(img)
		switch {
		case c.Delete && (after == 0 || (deprecated && !dep.After(now))):
			todo = append(todo, retirement{img: img, delete: true})
		case deprecated && !dep.After(deprecateAt):
			// already deprecated at or before the time we would set
		default:
			todo = append(todo, retirement{img: img, deprecateAt: deprecateAt})
		}
	}
	return todo
}

// beyondKeep returns the images of all (newest first) that keep does not
// cover: the artifact's own image counts first, then the newest others.
func (c *Config) beyondKeep(all []types.Image, own artifact.Image) []types.Image {
	kept := 1 // the artifact's image, listed or not (or still to be made)
	var out []types.Image
	for _, img := range all {
		if aws.ToString(img.ImageId) == own.ImageID {
			continue
		}
		if kept < c.Keep {
			kept++
			continue
		}
		out = append(out, img)
	}
	return out
}

// deprecationTime is when images are deprecated: now+after, at least a
// minute ahead of the clock (EC2 refuses times in the past), on a whole
// minute (EC2 rounds to minutes).
func deprecationTime(now time.Time, after time.Duration) time.Time {
	at := now.Add(after)
	if soon := time.Now().Add(time.Minute); at.Before(soon) {
		at = soon
	}
	if t := at.Truncate(time.Minute); !t.Equal(at) {
		at = t.Add(time.Minute)
	}
	return at.UTC()
}

// deprecation returns the image's deprecation time, if any.
func deprecation(img types.Image) (time.Time, bool) {
	s := aws.ToString(img.DeprecationTime)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// protected reports whether the image has deregistration protection.
func protected(img types.Image) bool {
	return strings.HasPrefix(aws.ToString(img.DeregistrationProtection), "enabled")
}

// created returns the image's creation date, the day only.
func created(img types.Image) string {
	s := aws.ToString(img.CreationDate)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return s
}

func deprecateAction(cl retirer, region string, img types.Image, label string, at time.Time) action {
	id := aws.ToString(img.ImageId)
	return action{
		line: fmt.Sprintf("deprecate %s at %s", label, at.Format(time.RFC3339)),
		do: func(ctx context.Context) error {
			_, err := cl.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(at)})
			if err != nil {
				return fmt.Errorf("deprecate %s in %s: %w", id, region, err)
			}
			return nil
		},
	}
}

func deleteAction(cl retirer, region string, img types.Image, label string) action {
	id := aws.ToString(img.ImageId)
	var snaps []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && aws.ToString(m.Ebs.SnapshotId) != "" {
			snaps = append(snaps, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	noun := "snapshots"
	if len(snaps) == 1 {
		noun = "snapshot"
	}
	return action{
		line: fmt.Sprintf("delete %s and its %d %s", label, len(snaps), noun),
		do: func(ctx context.Context) error {
			if _, err := cl.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
				return fmt.Errorf("deregister %s in %s: %w", id, region, err)
			}
			for _, s := range snaps {
				if _, err := cl.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(s)}); err != nil {
					return fmt.Errorf("delete snapshot %s of deregistered %s in %s (left behind): %w", s, id, region, err)
				}
			}
			return nil
		},
	}
}

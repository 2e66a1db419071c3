package steps

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// tagger computes the tags of every resource a build creates. The run tags
// (tags.RunID, tags.Build) are on everything and cannot be
// overridden by user tags: cleanup finds resources by them.
type tagger struct {
	cfg  *Config
	run  map[string]string // env.RunTags()
	what map[string]string // env.ImageTags(): on final images and their snapshots
	data interpolate.Data  // complete placeholder data, BuildRegion set per call
}

// temporary returns the tags of a temporary resource (key pair, security
// group, instance): the user's run_tags rendered for the build region,
// then tags.Temporary and the run tags.
func (t tagger) temporary() (map[string]string, error) {
	tags, err := t.render(t.cfg.Region, t.cfg.RunTags)
	if err != nil {
		return nil, fmt.Errorf("run_tags: %w", err)
	}
	return t.seal(tags, true), nil
}

// volume returns the tags of the build instance's volumes: run_volume_tags.
func (t tagger) volume() (map[string]string, error) {
	tags, err := t.render(t.cfg.Region, t.cfg.RunVolumeTags)
	if err != nil {
		return nil, fmt.Errorf("run_volume_tags: %w", err)
	}
	return t.seal(tags, true), nil
}

// image returns the tags of the image and of its snapshots in region:
// run_tags (unless skip_ami_run_tags), then tags, then (snapshots only)
// snapshot_tags, each rendered for region; later sets win. The recipe and
// fingerprint tags, and the run tags, come last.
func (t tagger) image(region string) (image, snapshot map[string]string, err error) {
	image, snapshot = map[string]string{}, map[string]string{}
	if !t.cfg.SkipAMIRunTags {
		if err := t.renderInto(region, "run_tags", t.cfg.RunTags, image, snapshot); err != nil {
			return nil, nil, err
		}
	}
	if err := t.renderInto(region, "tags", t.cfg.Tags, image, snapshot); err != nil {
		return nil, nil, err
	}
	if err := t.renderInto(region, "snapshot_tags", t.cfg.SnapshotTags, snapshot); err != nil {
		return nil, nil, err
	}
	maps.Copy(image, t.what)
	maps.Copy(snapshot, t.what)
	return t.seal(image, false), t.seal(snapshot, false), nil
}

func (t tagger) renderInto(region, attr string, src map[string]string, dsts ...map[string]string) error {
	tags, err := t.render(region, src)
	if err != nil {
		return fmt.Errorf("%s for %s: %w", attr, region, err)
	}
	for _, d := range dsts {
		maps.Copy(d, tags)
	}
	return nil
}

// render renders the keys and values of src for region.
func (t tagger) render(region string, src map[string]string) (map[string]string, error) {
	d := t.data
	d.BuildRegion = region
	out := make(map[string]string, len(src))
	for k, v := range src {
		rk, err := interpolate.Render(k, d)
		if err != nil {
			return nil, err
		}
		rv, err := interpolate.Render(v, d)
		if err != nil {
			return nil, err
		}
		out[rk] = rv
	}
	return out, nil
}

// seal adds the run tags (and the temporary mark) over set.
func (t tagger) seal(set map[string]string, temporary bool) map[string]string {
	maps.Copy(set, t.run)
	if temporary {
		set[tags.Temporary] = "true"
	} else {
		delete(set, tags.Temporary)
	}
	return set
}

// tagSpec returns a TagSpecification for one resource type, keys sorted.
func tagSpec(rt types.ResourceType, tags map[string]string) types.TagSpecification {
	return types.TagSpecification{ResourceType: rt, Tags: ec2Tags(tags)}
}

// tagSpecs returns the TagSpecifications of an image and its snapshots.
func tagSpecs(image, snapshot map[string]string) []types.TagSpecification {
	return []types.TagSpecification{tagSpec(types.ResourceTypeImage, image), tagSpec(types.ResourceTypeSnapshot, snapshot)}
}

// ec2Tags converts a map into EC2 tags, sorted by key.
func ec2Tags(tags map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// tagFilters returns DescribeX filters selecting resources of this run
// and build.
func tagFilters(run map[string]string) []types.Filter {
	var out []types.Filter
	for _, k := range slices.Sorted(maps.Keys(run)) {
		out = append(out, types.Filter{Name: aws.String("tag:" + k), Values: []string{run[k]}})
	}
	return out
}

func (b *build) tagger() tagger {
	return tagger{cfg: b.cfg, run: b.env.RunTags(), what: b.env.ImageTags(), data: b.st.data}
}

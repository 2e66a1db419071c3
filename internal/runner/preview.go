package runner

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/uuid"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/plan"
)

// Preview is what a build would do, found without changing anything
// (imgbuild plan).
type Preview struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Source      string `json:"source_image,omitempty"` // the resolved source image; "" when it is another build's
	Parent      string `json:"source_build,omitempty"` // the source_build, when there is one
	// Status is what happens to the build: artifact.StatusBuilt (it
	// would be built), StatusUpToDate or StatusCompleted.
	Status string `json:"status"`
	// Regions says per region what would happen, sorted by region.
	Regions []RegionPreview `json:"regions"`
	// PostProcessors are the actions the post-processors that can tell
	// would take.
	PostProcessors []PostProcessorPreview `json:"post_processors,omitempty"`
}

// RegionPreview is what would happen to a build's image in one region.
type RegionPreview struct {
	Region string `json:"region"`
	// Action is "build" (made from an instance here), "copy" (copied
	// from From), or "keep" (ImageID exists already).
	Action  string `json:"action"`
	ImageID string `json:"image_id,omitempty"`
	From    string `json:"from,omitempty"`
	Built   string `json:"built,omitempty"` // creation date of an existing image (YYYY-MM-DD)
}

// PostProcessorPreview is one post-processor's planned actions.
type PostProcessorPreview struct {
	Type    string   `json:"type"`
	Name    string   `json:"name,omitempty"`
	Actions []string `json:"actions"`
}

// Changes reports whether the build would change anything.
func (p *Preview) Changes() bool {
	if p.Status != artifact.StatusUpToDate {
		return true
	}
	for _, pp := range p.PostProcessors {
		if len(pp.Actions) > 0 {
			return true
		}
	}
	return false
}

// PreviewRun surveys every build of opts.Plan as Run would, without a
// journal and without creating anything, and says what each would do.
func PreviewRun(ctx context.Context, opts Options) ([]*Preview, error) {
	builds := map[string]builder.Build{}
	envs := map[string]*builder.Env{}
	// Not a run: no journal and nothing tagged with it, but the builds of
	// one preview share their lookups under it.
	previewID := "preview-" + uuid.NewString()
	for _, bp := range opts.Plan.Builds {
		name := bp.Name
		env := &builder.Env{RunID: previewID, BuildName: name, Logger: opts.Logger.Named(name), BaseDir: opts.Template.WorkDir,
			Now: opts.Template.Now, AddSecret: func(s string) { opts.UI.Masker().Add(s) }}
		b, err := newBuild(ctx, env, bp)
		if err != nil {
			return nil, fmt.Errorf("start build %s: %w", name, err)
		}
		builds[name], envs[name] = b, env
	}
	surveys, err := survey(ctx, opts.Plan, builds, opts.Template.WorkDir, opts.UI.Masker().Mask, opts.Force, nil)
	if err != nil {
		return nil, fmt.Errorf("survey the builds: %w", err)
	}
	var out []*Preview
	for _, bp := range opts.Plan.Builds {
		s := surveys[bp.Name]
		envs[bp.Name].Fingerprint = s.Fingerprint
		pv := &Preview{Name: bp.Name, Fingerprint: s.Fingerprint, Source: s.Source, Status: status(bp), Regions: regions(bp)}
		if bp.Parent != nil {
			pv.Parent = bp.Parent.Name
		}
		a := plannedArtifact(bp, pv)
		for _, st := range bp.Steps {
			if st.Kind != plan.PostProcess {
				continue
			}
			pp := st.PostProcessor
			planner, ok := pp.Config.(artifact.Planner)
			if !ok {
				continue
			}
			lines, err := planner.PlanPostProcess(ctx, &artifact.Env{BaseDir: opts.Template.WorkDir, Logger: opts.Logger.Named(bp.Name),
				Now: opts.Template.Now}, a)
			if err != nil {
				return nil, fmt.Errorf("%s: plan post-processor %s%s: %w", bp.Name, pp.Type, named(pp.Name), err)
			}
			pv.PostProcessors = append(pv.PostProcessors, PostProcessorPreview{Type: pp.Type, Name: pp.Name, Actions: lines})
		}
		out = append(out, pv)
	}
	return out, nil
}

// regions says per region what the plan of bp does: keep an existing
// image, copy one, or make one from an instance.
func regions(bp *plan.BuildPlan) []RegionPreview {
	byRegion := map[string]RegionPreview{}
	for r, f := range bp.Existing {
		byRegion[r] = RegionPreview{Region: r, Action: "keep", ImageID: f.ImageID, Built: f.Created.UTC().Format("2006-01-02")}
	}
	// A build makes its image in its first image step and copies it in
	// the others; a build that completes regions copies from the region
	// its first step (the reuse of the existing image) names.
	var from string
	if bp.Existing != nil && len(bp.Steps) > 0 {
		from = bp.Steps[0].Region
	}
	for _, s := range bp.Steps {
		if s.ImageIn == "" {
			continue
		}
		if from == "" {
			from = s.ImageIn
			byRegion[s.ImageIn] = RegionPreview{Region: s.ImageIn, Action: "build"}
			continue
		}
		byRegion[s.ImageIn] = RegionPreview{Region: s.ImageIn, Action: "copy"}
	}
	out := make([]RegionPreview, 0, len(byRegion))
	for _, rp := range byRegion {
		if rp.Action == "copy" {
			rp.From = from
		}
		out = append(out, rp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out
}

// plannedArtifact is the artifact bp would hand its post-processors:
// existing images, and an empty ImageID where an image is to be made.
func plannedArtifact(bp *plan.BuildPlan, pv *Preview) *artifact.Artifact {
	a := &artifact.Artifact{BuildName: bp.Name, BuilderType: bp.Use.Type(), Fingerprint: pv.Fingerprint, Status: pv.Status,
		Source: artifact.Source{ImageID: pv.Source}, Planned: true}
	for _, rp := range pv.Regions {
		im := artifact.Image{Region: rp.Region}
		if rp.Action == "keep" {
			im.ImageID = rp.ImageID
			im.Snapshots = bp.Existing[rp.Region].Snapshots
		}
		a.Images = append(a.Images, im)
	}
	a.Sort()
	return a
}

package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/interpolate"
)

var _ artifact.PostProcessor = (*Config)(nil)

// Build is one entry of the manifest's builds list. The first fields are
// Packer's, so tools that read Packer manifests keep working; the last
// ones are imgbuild's.
type Build struct {
	Name          string            `json:"name"`
	BuilderType   string            `json:"builder_type"`
	BuildTime     int64             `json:"build_time,omitempty"` // unix seconds
	Files         []File            `json:"files"`
	ArtifactID    string            `json:"artifact_id"`
	PackerRunUUID string            `json:"packer_run_uuid"`
	CustomData    map[string]string `json:"custom_data"`

	Images          []artifact.Image `json:"images"`
	SourceImage     *artifact.Source `json:"source_image,omitempty"`
	DurationSeconds int64            `json:"duration_seconds"`
	// Fingerprint is the hash of everything that determines the image.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Status is "built", "up-to-date" (the images existed in every
	// region) or "completed" (missing regions were copied).
	Status string `json:"status,omitempty"`
	// BootPayload is the path of the boot payload file, when the
	// strategy defers layers to boot.
	BootPayload string `json:"boot_payload,omitempty"`
}

// File is a local file the build produced.
type File struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// PostProcess appends an entry for a to the manifest file and returns a
// unchanged. Builds of one run that post-process at the same time append
// one after the other.
//
// build_time is the end of the build (its start plus its duration), so
// rerunning the post-processor on the same artifact writes the same entry.
// custom_data values may hold legacy placeholders such as
// {{ .SourceAMI }}; they render with the artifact's source image, and
// {{ .BuildRegion }} is the first region of the artifact in region order,
// because the artifact does not record which region built the image.
func (c *Config) PostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) (*artifact.Artifact, error) {
	b, err := c.entry(env.BaseDir, a)
	if err != nil {
		return a, err
	}
	path := check.Resolve(env.BaseDir, c.Output)
	if err := appendBuild(path, b, a.RunID); err != nil {
		return a, fmt.Errorf("manifest %s: %w", c.Output, err)
	}
	if env.Out != nil {
		fmt.Fprintf(env.Out, "Manifest: added %s to %s\n", a.BuildName, c.Output)
	}
	return a, nil
}

// entry returns the manifest entry of a.
func (c *Config) entry(baseDir string, a *artifact.Artifact) (Build, error) {
	custom, err := c.customData(a)
	if err != nil {
		return Build{}, err
	}
	b := Build{
		Name:            a.BuildName,
		BuilderType:     a.BuilderType,
		Files:           c.files(baseDir, a.Files),
		ArtifactID:      a.ID(),
		PackerRunUUID:   a.RunID,
		CustomData:      custom,
		Images:          a.Images,
		DurationSeconds: int64(a.Duration.Round(time.Second) / time.Second),
		Fingerprint:     a.Fingerprint,
		Status:          a.Status,
		BootPayload:     a.BootPayload,
	}
	if b.Images == nil {
		b.Images = []artifact.Image{}
	}
	if a.Source.ImageID != "" {
		src := a.Source
		b.SourceImage = &src
	}
	if !c.StripTime {
		b.BuildTime = buildTime(a)
	}
	return b, nil
}

func buildTime(a *artifact.Artifact) int64 {
	if a.Started.IsZero() {
		return time.Now().Unix()
	}
	return a.Started.Add(a.Duration).Unix()
}

// files lists the artifact's local files with their sizes; a file that
// cannot be read is listed with size 0.
func (c *Config) files(baseDir string, paths []string) []File {
	if len(paths) == 0 {
		return nil
	}
	out := make([]File, len(paths))
	for i, p := range paths {
		out[i].Name = p
		if c.StripPath {
			out[i].Name = filepath.Base(p)
		}
		if fi, err := os.Stat(check.Resolve(baseDir, p)); err == nil {
			out[i].Size = fi.Size()
		}
	}
	return out
}

// customData renders the placeholders of custom_data for a.
func (c *Config) customData(a *artifact.Artifact) (map[string]string, error) {
	if c.CustomData == nil {
		return nil, nil
	}
	data := Data(a)
	out := make(map[string]string, len(c.CustomData))
	for k, v := range c.CustomData {
		r, err := interpolate.Render(v, data)
		if err != nil {
			return nil, fmt.Errorf("custom_data %s: %w", k, err)
		}
		out[k] = r
	}
	return out, nil
}

// Data returns the placeholder data of a: its source image and build, the
// first region in region order as BuildRegion, and the build's start as
// the time of {{timestamp}}.
func Data(a *artifact.Artifact) interpolate.Data {
	d := interpolate.Data{
		SourceAMI:             a.Source.ImageID,
		SourceAMIName:         a.Source.Name,
		SourceAMIOwner:        a.Source.Owner,
		SourceAMICreationDate: a.Source.CreationDate,
		SourceAMITags:         a.Source.Tags,
		BuildName:             a.BuildName,
		BuildType:             a.BuilderType,
		Now:                   a.Started,
	}
	for i, im := range a.Images {
		if i == 0 || im.Region < d.BuildRegion {
			d.BuildRegion = im.Region
		}
	}
	if d.SourceAMITags == nil {
		d.SourceAMITags = map[string]string{}
	}
	return d
}

// Package artifact describes what a build produced: the image in every
// region with its snapshots, the source it was made from, and the run. It
// is what post-processors receive and what the summary prints.
package artifact

import (
	"sort"
	"strings"
	"time"
)

// Image is the image in one region.
type Image struct {
	Region    string   `json:"region"`
	ImageID   string   `json:"image_id"`
	Snapshots []string `json:"snapshot_ids,omitempty"`
}

// Source is the resolved source image of a build.
type Source struct {
	ImageID      string            `json:"image_id"`
	Name         string            `json:"name,omitempty"`
	Owner        string            `json:"owner,omitempty"`
	CreationDate string            `json:"creation_date,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// Artifact is the result of one build (one source use of one build block).
type Artifact struct {
	BuildName   string        `json:"name"`
	BuilderType string        `json:"builder_type"`
	RunID       string        `json:"run_id"`
	Source      Source        `json:"source"`
	Images      []Image       `json:"images"` // sorted by region
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"duration"`
	// Files are local files the build produced (for example a boot payload).
	Files []string `json:"files,omitempty"`
	// Fingerprint is the hash of everything that determines the image
	// (tags.Fingerprint on the images); "" when the builder has none.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Status says how the images came to be: StatusBuilt, StatusUpToDate
	// or StatusCompleted.
	Status string `json:"status,omitempty"`
	// BootPayload is the path of the boot payload file (user data that
	// configures an instance launched from the image with the layers the
	// strategy did not bake); "" when there is none.
	BootPayload string `json:"boot_payload,omitempty"`
	// Planned is set when the artifact describes what a build would make
	// (imgbuild plan): images with an empty ImageID are still to be made.
	Planned bool `json:"-"`
}

// The statuses of an artifact.
const (
	StatusBuilt     = "built"      // the build ran and made the images
	StatusUpToDate  = "up-to-date" // images of the fingerprint existed in every region
	StatusCompleted = "completed"  // some regions were copied from one that had the image
)

// Sort orders the images by region.
func (a *Artifact) Sort() {
	sort.Slice(a.Images, func(i, j int) bool { return a.Images[i].Region < a.Images[j].Region })
}

// ID returns Packer's artifact ID form, "region:ami,region:ami", sorted.
func (a *Artifact) ID() string {
	a.Sort()
	parts := make([]string, 0, len(a.Images))
	for _, im := range a.Images {
		parts = append(parts, im.Region+":"+im.ImageID)
	}
	return strings.Join(parts, ",")
}

// ImageIDs returns the image ID per region.
func (a *Artifact) ImageIDs() map[string]string {
	out := make(map[string]string, len(a.Images))
	for _, im := range a.Images {
		out[im.Region] = im.ImageID
	}
	return out
}

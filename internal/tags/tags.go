// Package tags holds the keys of the tags imgbuild puts on every resource
// it creates. It is a leaf: builders tag with these keys, and the sweeper
// and the cleanup command find leftovers by them, without either side
// importing the other.
package tags

// Tag keys imgbuild puts on every resource it creates, at creation.
const (
	RunID     = "imgbuild:run-id"    // the run that created it
	Build     = "imgbuild:build"     // the full build name
	Temporary = "imgbuild:temporary" // "true" on what the build deletes when done
	Complete  = "imgbuild:complete"  // set on final images once the whole build succeeded
)

// Tag keys on final images and their snapshots that say what they are,
// for skipping unchanged builds, retention and audits.
const (
	// Fingerprint is the hash of everything that determines the image.
	Fingerprint = "imgbuild:fingerprint"
	// Recipe is the full name of the build that made the image
	// (build.source-type.source-name), the unit retention counts.
	Recipe = "imgbuild:recipe"
)

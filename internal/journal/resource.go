package journal

import (
	"os"
	"time"
)

// Type names a kind of cloud resource. The constants below are the types
// imgbuild creates; any other non-empty string is accepted and cleaned up
// last.
type Type string

// The resource types imgbuild creates.
const (
	Instance      Type = "instance"
	Volume        Type = "volume"
	KeyPair       Type = "key-pair"
	SecurityGroup Type = "security-group"
	Image         Type = "image"
	Snapshot      Type = "snapshot"
	// BucketObject is one object of an S3 bundle; its ID is "<bucket>/<key>".
	BucketObject Type = "bucket-object"
	// BundleTask is a BundleInstance task (bun-...): cleanup cancels it
	// while it runs.
	BundleTask Type = "bundle-task"
	// Bucket is an S3 bucket a build created for its bundles; it is kept
	// (images are registered from it) and never removed by cleanup.
	Bucket Type = "bucket"
	// LaunchTemplate is the temporary launch template of a spot launch
	// (lt-...); its Name is the template's name, by which cleanup finds it
	// when the create call's outcome is unknown.
	LaunchTemplate Type = "launch-template"
	// Fleet is the EC2 fleet of type "instant" a spot launch goes through
	// (fleet-...); cleanup deletes it (terminating what it still runs)
	// after the instance it launched.
	Fleet Type = "fleet"
	// Lease is the SSM parameter a run holds so that no other runner
	// builds the same fingerprint meanwhile (internal/lease). Its Name
	// (and ID, once created) is the parameter's name; cleanup removes it
	// only while the run it was journaled by still holds it.
	Lease Type = "lease"
)

// State is where a resource stands after replaying a journal.
type State string

// The states of a replayed resource.
const (
	// StateIntended: the create call may or may not have happened; the
	// resource has no ID yet and must be looked up by its client token,
	// name or tags.
	StateIntended State = "intended"
	// StateCreated: the create call returned this ID.
	StateCreated State = "created"
	// StateNotCreated: the creator or cleanup established that the create
	// call created nothing.
	StateNotCreated State = "not-created"
	// StateDeleted: cleanup removed the resource or found it already gone.
	StateDeleted State = "deleted"
	// StateKept: the resource is the final output of a successful build;
	// cleanup never touches it.
	StateKept State = "kept"
)

// Outcomes recorded by Writer.End. A run whose builds failed but whose
// cleanup finished still ends cleanly, with OutcomeFailed.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
)

// Ref identifies an intent record within its run (its sequence number), so
// that Writer.Created and Writer.NotCreated can refer to it.
type Ref int64

// Resource is one cloud resource a run creates. It holds names, IDs and
// tags only: a journal must never hold credentials or other secrets.
type Resource struct {
	Type   Type   `json:"type"`
	Region string `json:"region"`
	// ID is the cloud ID (i-..., ami-..., sg-...); empty in an intent.
	ID string `json:"id,omitempty"`
	// Build is the name of the build that created the resource.
	Build string `json:"build,omitempty"`
	// Name is the resource's name where it has one (key pair, security
	// group, image name, object key), used to find it when ID is unknown.
	Name string `json:"name,omitempty"`
	// ClientToken is the idempotency token passed to the create call.
	ClientToken string `json:"client_token,omitempty"`
	// Tags are the tags applied at creation (including the run ID tag).
	Tags map[string]string `json:"tags,omitempty"`
	// Parent is the ID of the resource this one was created with, in the
	// same region: an image's snapshots name their image.
	Parent string `json:"parent,omitempty"`

	// Ref is the intent record that introduced the resource (zero for a
	// resource first seen in a deleted or kept record). Set by Read.
	Ref Ref `json:"ref,omitempty"`
	// State is set by Read; the Writer ignores it.
	State State `json:"state,omitempty"`
}

// forRecord returns r as it is written to the journal: without the fields
// that Read computes.
func (r Resource) forRecord() Resource {
	r.Ref, r.State = 0, ""
	return r
}

// Header describes a run. It is the first record of every run file.
type Header struct {
	RunID string `json:"run_id"`
	// Template is the path of the template the run built.
	Template string   `json:"template,omitempty"`
	Builds   []string `json:"builds,omitempty"`
	// PID, Hostname and Started describe the writing process; Create and
	// Resume fill them in when zero.
	PID      int       `json:"pid"`
	Hostname string    `json:"hostname,omitempty"`
	Started  time.Time `json:"started"`
	// Version is the imgbuild version that wrote the run.
	Version string `json:"version,omitempty"`
}

// fillProcess fills the fields describing the current process that h leaves
// zero.
func (h *Header) fillProcess() {
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Hostname == "" {
		h.Hostname, _ = os.Hostname() // best effort: only shown to people
	}
	if h.Started.IsZero() {
		h.Started = time.Now().UTC()
	}
}

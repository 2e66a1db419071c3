package journal

import "time"

// formatVersion is the version of the record format written in the header.
// Read rejects runs written in a newer format. Format 2 added the access
// record; Read still reads format 1.
const formatVersion = 2

// kind says what a record records.
type kind string

const (
	kindHeader     kind = "header"      // first record: Format, Header
	kindResume     kind = "resume"      // another process took over: Header
	kindAccess     kind = "access"      // how a build reaches AWS: Access
	kindIntent     kind = "intent"      // before a create call: Resource
	kindCreated    kind = "created"     // after it: Ref, ID, Extra
	kindNotCreated kind = "not-created" // the create call created nothing: Ref
	kindDeleted    kind = "deleted"     // cleanup removed it: Resource (type, region, id)
	kindKept       kind = "kept"        // final output: Resource (type, region, id)
	kindEnd        kind = "end"         // the run ended cleanly: Outcome
)

// record is one line of a run file.
type record struct {
	Seq      int64      `json:"seq"`
	Kind     kind       `json:"kind"`
	Time     time.Time  `json:"time"`
	Format   int        `json:"format,omitempty"`
	Header   *Header    `json:"header,omitempty"`
	Access   *Access    `json:"access,omitempty"`
	Resource *Resource  `json:"resource,omitempty"`
	Ref      Ref        `json:"ref,omitempty"`
	ID       string     `json:"id,omitempty"`
	Extra    []Resource `json:"extra,omitempty"`
	Outcome  string     `json:"outcome,omitempty"`
}

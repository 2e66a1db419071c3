package builder

// StepKind says what a step does. Each builder names the kinds of its own
// steps; the engine adds the provisioner and post-processor kinds.
type StepKind string

// Step is one node of a build's plan.
type Step struct {
	ID      string // unique in the plan: "<build>/<kind>[:<detail>]"
	Label   string // what a person reads
	Kind    StepKind
	Deps    []string // IDs of the steps this one runs after
	Region  string
	Cleanup string // what the step's cleanup does; "" when it has none
	// CleanupOnFailure says the cleanup only acts when the build did not
	// succeed (it removes images a failed build made).
	CleanupOnFailure bool
	// StopsInstance says the step leaves the instance shutting itself
	// down (a sysprep provisioner): the builder waits for the stop
	// instead of stopping it.
	StopsInstance bool
	// ImageIn is the region this step makes the build's image available
	// in (image creation, a copy), "" for other steps: a build whose
	// source is this build's image starts there after it.
	ImageIn string
}

// Planner collects the steps of one build while its builder plans it. IDs
// given to Add are relative to the build ("launch", "copy:eu-west-1"); the
// steps it returns carry their ID in the whole plan.
type Planner interface {
	// Add appends s, which runs after the steps in after, and returns it.
	Add(s *Step, after ...*Step) *Step
	// Provisioners appends a step per provisioner of the template that
	// applies to this build, in order, the first after last, and returns
	// the last step added (last itself when none applies).
	Provisioners(last *Step) *Step
	// PostProcessors appends the template's post-processor chains that
	// apply to this build, each starting after last.
	PostProcessors(last *Step)
	// Existing returns the images of the build's fingerprint that exist
	// already, by region: nil when the build must make its image.
	Existing() map[string]Found
}

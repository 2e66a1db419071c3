package amazon

import "github.com/imgbuild/imgbuild/internal/check"

// Timeouts is the timeouts {} block, an imgbuild extension: the deadline of
// each kind of wait, as duration strings such as "15m" or "1h30m".
type Timeouts struct {
	// InstanceRunning bounds the wait for the build instance to run.
	// Default: "10m".
	InstanceRunning string `hcl:"instance_running"`
	// InstanceStopped bounds the wait for the instance to stop. Default: "10m".
	InstanceStopped string `hcl:"instance_stopped"`
	// InstanceTerminated bounds the wait for the instance to terminate.
	// Default: "10m".
	InstanceTerminated string `hcl:"instance_terminated"`
	// ImageAvailable bounds the wait for the new AMI to become available.
	// Default: "60m".
	ImageAvailable string `hcl:"image_available"`
	// CopyAvailable bounds the wait for each regional copy. Default: "60m".
	CopyAvailable string `hcl:"copy_available"`
	// SSH bounds the wait for the communicator to connect. Default: the
	// communicator's ssh_timeout.
	SSH string `hcl:"ssh"`
}

// Prepare fills the defaults and checks every duration. commTimeout is the
// communicator's timeout, the default of ssh.
func (t *Timeouts) Prepare(ctx *check.Context, commTimeout string) {
	fields := []struct {
		name string
		p    *string
		def  string
	}{
		{"instance_running", &t.InstanceRunning, "10m"},
		{"instance_stopped", &t.InstanceStopped, "10m"},
		{"instance_terminated", &t.InstanceTerminated, "10m"},
		{"image_available", &t.ImageAvailable, "60m"},
		{"copy_available", &t.CopyAvailable, "60m"},
		{"ssh", &t.SSH, commTimeout},
	}
	for _, f := range fields {
		if *f.p == "" {
			// A default is not checked here: the communicator's own
			// timeout is reported at its own attribute.
			*f.p = f.def
			continue
		}
		ctx.DurationAttr(check.Path("timeouts", f.name), *f.p)
	}
}

package template

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// checkConnections checks each baked provisioner against the connection
// of each source it applies to, as the provisioner would once the
// instance runs: with communicator = "none" every provisioner that works
// on the instance (all but shell-local, which runs on this machine) is
// refused, the error-cleanup-provisioner too; otherwise see checkKeep.
// Provisioners the strategy defers to the boot payload run from user data
// and need no connection.
func (l *loader) checkConnections(b *Build) {
	provs := b.Provisioners
	if b.ErrorCleanup != nil {
		provs = append(provs[:len(provs):len(provs)], b.ErrorCleanup)
	}
	for _, use := range b.Sources {
		comm := communicatorOf(use.Config)
		for _, p := range provs {
			cfg, ok := p.Configs[use.UseName()]
			if !ok || cfg == nil || !Bakes(use.EffectiveStrategy(b), p.Layer) {
				continue
			}
			if comm != "none" {
				l.checkKeep(p, cfg, use, comm)
				continue
			}
			if local, ok := cfg.(interface{ RunsLocally() bool }); ok && local.RunsLocally() {
				continue
			}
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError,
				Summary: fmt.Sprintf("provisioner %q needs a connection to the instance", p.Type),
				Detail: fmt.Sprintf("%s has communicator = \"none\", so nothing can connect to its instance, and provisioner %q works on the instance. "+
					"Set communicator to \"ssh\" or \"winrm\", or use it with other sources (only/except).", use.UseName(), p.Type),
				Subject: p.DeclRange.Ptr()})
		}
	}
}

// checkKeep asks a provisioner that keeps the Administrator password
// (sysprep admin_password = "keep") whether the connection of use allows
// it: an error when the configuration alone decides it, a warning when
// the source image's launch agent will (EC2Config has no such need).
func (l *loader) checkKeep(p *Provisioner, cfg any, use *SourceUse, comm string) {
	k, ok := cfg.(interface {
		KeepProblem(user string, hasPassword bool) (string, bool)
	})
	if !ok {
		return
	}
	user, hasPassword := stringField(use.Config, "ssh_username"), stringField(use.Config, "ssh_password") != ""
	if comm == "winrm" {
		// winrm_password, or the password read with GetPasswordData
		user, hasPassword = stringField(use.Config, "winrm_username"), true
	}
	problem, sure := k.KeepProblem(user, hasPassword)
	if problem == "" {
		return
	}
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf(`admin_password = "keep" cannot work for %s`, use.UseName()),
		Detail: problem + ".", Subject: p.DeclRange.Ptr()}
	if !sure {
		d.Severity = hcl.DiagWarning
		d.Summary = fmt.Sprintf(`admin_password = "keep" may not work for %s`, use.UseName())
		d.Detail = "Unless the source image has EC2Config (Windows Server 2012 R2 and older), the build stops before Sysprep: " + problem +
			". Set agent or windows_version in the provisioner to decide it now."
	}
	l.diags = append(l.diags, d)
}

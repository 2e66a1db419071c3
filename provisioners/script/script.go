// Package script holds what the script-running provisioners (shell,
// shell-local, powershell) share: where the script comes from, its
// environment, and the checks of both.
package script

import (
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
)

// Source says which script a provisioner runs. Exactly one of its
// attributes is set.
type Source struct {
	// Inline is a list of commands, written to one script and run in order.
	Inline []string `hcl:"inline"`
	// Script is the local path of one script to upload and run; it must
	// exist. Relative paths are relative to the template directory.
	Script string `hcl:"script" fingerprint:"file"`
	// Scripts are local paths of scripts run one after the other; each
	// must exist.
	Scripts []string `hcl:"scripts" fingerprint:"file"`
}

// Alternative is another attribute that can give the script, such as
// shell-local's command.
type Alternative struct {
	Name string
	Set  bool
}

// Prepare checks that exactly one of inline, script, scripts and the extra
// alternatives is set, and that script files exist. It then puts Script
// first in Scripts, so runners only read Inline and Scripts.
func (s *Source) Prepare(ctx *check.Context, extra ...Alternative) {
	alts := append([]Alternative{{"inline", len(s.Inline) > 0}, {"script", s.Script != ""}, {"scripts", len(s.Scripts) > 0}}, extra...)
	var set, all []string
	for _, a := range alts {
		all = append(all, a.Name)
		if ctx.Set(a.Set, a.Name) {
			set = append(set, a.Name)
		}
	}
	names := strings.Join(all, ", ")
	switch len(set) {
	case 0:
		ctx.Errorf(check.Path("inline"), "Missing script", "Set one of %s.", names)
	case 1:
	default:
		ctx.Errorf(check.Path(set[1]), "Conflicting scripts", "Set only one of %s; found %s.", names, strings.Join(set, " and "))
	}
	ctx.File(check.Path("script"), s.Script)
	for _, p := range s.Scripts {
		ctx.File(check.Path("scripts"), p)
	}
	if s.Script != "" {
		s.Scripts = append([]string{s.Script}, s.Scripts...)
	}
}

// Env is the environment a script runs with.
type Env struct {
	// EnvironmentVars are "KEY=value" entries set for the script.
	EnvironmentVars []string `hcl:"environment_vars"`
	// Env maps variable names to values set for the script; it is merged
	// with environment_vars.
	Env map[string]string `hcl:"env"`
}

// Prepare checks that every environment_vars entry is KEY=value.
func (e *Env) Prepare(ctx *check.Context) {
	for _, v := range e.EnvironmentVars {
		ctx.Check(check.Path("environment_vars"), "Invalid environment variable", check.EnvVar(v))
	}
	for k := range e.Env {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, "= ") {
			ctx.Errorf(check.Path("env"), "Invalid environment variable", "%q is not a variable name.", k)
		}
	}
}

// Command checks that a command template (such as execute_command)
// renders with the provisioner's own placeholders (keys), and records a
// diagnostic at attr when it does not.
func Command(ctx *check.Context, attr, s string, keys ...string) {
	ctx.Check(check.Path(attr), "Invalid template in "+attr, check.CommandTemplate(s, keys...))
}

// ExitCodes defaults codes to [0].
func ExitCodes(codes []int) []int {
	if len(codes) == 0 {
		return []int{0}
	}
	return codes
}

// Package windowsshell is the windows-shell provisioner: it uploads cmd
// batch scripts to a Windows instance and runs them over the
// communicator (WinRM), with Packer's semantics.
//
// For each script (the inline commands joined into one script, or script
// and scripts in order) it uploads the script to remote_path, by default
// a new random name each, then runs execute_command, by default
// `{{.Vars}}"{{.Path}}"`, where {{.Vars}} sets the environment on the
// command line: `set "NAME=value" && ` a variable.
package windowsshell

import (
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

// Defaults of the windows-shell provisioner.
const (
	DefaultExecuteCommand = `{{.Vars}}"{{.Path}}"`
	DefaultEnvVarFormat   = `set "%s=%s" && `
	// DefaultRemotePath is where scripts go; %s is replaced by a random
	// UUID, new for each script. (Packer's is the fixed
	// c:/Windows/Temp/script.bat; the random part keeps scripts from
	// meeting.)
	DefaultRemotePath        = "c:/Windows/Temp/script-%s.bat"
	DefaultStartRetryTimeout = "5m"
)

// Config is the configuration of a provisioner "windows-shell" block.
type Config struct {
	script.Source
	script.Env

	// ExecuteCommand runs the uploaded script. Placeholders: {{.Path}}
	// (the script's remote path) and {{.Vars}} (the environment,
	// environment_vars, env, PACKER_BUILD_NAME and PACKER_BUILDER_TYPE,
	// each formatted with env_var_format). Values are on the command line,
	// as with Packer: use the powershell provisioner for secrets. Default:
	// `{{.Vars}}"{{.Path}}"`.
	ExecuteCommand string `hcl:"execute_command"`
	// EnvVarFormat is the Printf format of one variable in {{.Vars}}, with
	// two %s (name, value). Values are not escaped: cmd expands %NAME% in
	// them, and they cannot hold a double quote or a line break. Default:
	// `set "%s=%s" && `.
	EnvVarFormat string `hcl:"env_var_format"`
	// RemotePath is where each script is uploaded; a path ending in "/" or
	// "\" is a directory that receives the script under its own name.
	// Default: "c:/Windows/Temp/script-<random UUID>.bat", a new name
	// for each script.
	RemotePath string `hcl:"remote_path" fingerprint:"-"`
	// ValidExitCodes are the exit codes that mean success. Default: [0].
	ValidExitCodes []int `hcl:"valid_exit_codes"`
	// StartRetryTimeout is how long to retry uploading while the instance
	// does not answer (e.g. during a restart). Default: "5m".
	StartRetryTimeout string `hcl:"start_retry_timeout"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	setString(&c.ExecuteCommand, DefaultExecuteCommand)
	setString(&c.EnvVarFormat, DefaultEnvVarFormat)
	setString(&c.StartRetryTimeout, DefaultStartRetryTimeout)
	c.ValidExitCodes = script.ExitCodes(c.ValidExitCodes)

	c.Source.Prepare(ctx)
	c.Env.Prepare(ctx)
	script.Command(ctx, "execute_command", c.ExecuteCommand, "Path", "Vars")
	ctx.DurationAttr(check.Path("start_retry_timeout"), c.StartRetryTimeout)
	if n := strings.Count(c.EnvVarFormat, "%s"); n != 2 {
		ctx.Errorf(check.Path("env_var_format"), "Invalid env_var_format", "env_var_format needs two %%s (name and value), found %d.", n)
	}
	for _, kv := range c.EnvironmentVars {
		if name, value, ok := strings.Cut(kv, "="); ok {
			ctx.Check(check.Path("environment_vars"), "Invalid environment variable", cmdValue(name, value))
		}
	}
	for name, value := range c.Env.Env {
		ctx.Check(check.Path("env"), "Invalid environment variable", cmdValue(name, value))
	}
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

package powershell

import (
	"fmt"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

// DefaultExecuteCommand is the default execute_command and
// elevated_execute_command (with execution_policy "bypass", debug_mode 0
// and without use_pwsh): it hides progress bars, dot-sources the
// environment script ({{.Vars}}), runs the script and exits with its exit
// code.
const DefaultExecuteCommand = `powershell -executionpolicy {{.ExecutionPolicy}} "& { if (Test-Path variable:global:ProgressPreference){set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};. {{.Vars}}; &'{{.Path}}'; exit $LastExitCode }"`

// Default remote paths, new for each run (the environment script) or each
// script: %s is replaced by a random UUID in the script's (Packer's
// default, script-<uuid>.ps1) and by random hexadecimal digits in the
// environment script's.
const (
	DefaultRemotePath       = "c:/Windows/Temp/script-%s.ps1"
	DefaultRemoteEnvVarPath = "c:/Windows/Temp/imgbuild-ps-env-vars-%s.ps1"
)

// DefaultStartRetryTimeout is the default start_retry_timeout.
const DefaultStartRetryTimeout = "5m"

var policies = []string{"bypass", "allsigned", "default", "remotesigned", "restricted", "undefined", "unrestricted", "none"}

// Config is the configuration of a provisioner "powershell" block.
type Config struct {
	script.Source
	script.Env

	// ExecuteCommand runs the uploaded script. Placeholders: {{.Path}}
	// (the script's remote path), {{.Vars}} (the remote path of the
	// environment script, to dot-source: it sets environment_vars, env,
	// PACKER_BUILD_NAME and PACKER_BUILDER_TYPE as $env: variables) and
	// {{.ExecutionPolicy}}. Default: DefaultExecuteCommand, with
	// "pwsh -executionpolicy {{.ExecutionPolicy}} -command" for use_pwsh,
	// without the policy flag for execution_policy "none", and with
	// "Set-PSDebug -Trace N;" before the script for debug_mode N.
	ExecuteCommand string `hcl:"execute_command"`
	// ElevatedUser runs the scripts as this user through a scheduled task
	// with the highest privileges. An empty elevated_password means a
	// service account such as SYSTEM.
	ElevatedUser string `hcl:"elevated_user"`
	// ElevatedPassword is elevated_user's password. Sensitive: it is only
	// written to the task's registration script, which removes itself.
	ElevatedPassword string `hcl:"elevated_password" sensitive:"true"`
	// ElevatedExecuteCommand is the command the scheduled task runs for
	// each script, with the same placeholders and default as
	// execute_command.
	ElevatedExecuteCommand string `hcl:"elevated_execute_command"`
	// RemotePath is where each script is uploaded; a path ending in "/" or
	// "\" is a directory that receives the script under its own name.
	// Default: "c:/Windows/Temp/script-<random UUID>.ps1" (Packer's), a new name
	// for each script.
	RemotePath string `hcl:"remote_path" fingerprint:"-"`
	// RemoteEnvVarPath is where the environment script ({{.Vars}}) is
	// uploaded; it is removed after the run. Default:
	// "c:/Windows/Temp/imgbuild-ps-env-vars-<random>.ps1".
	RemoteEnvVarPath string `hcl:"remote_env_var_path" fingerprint:"-"`
	// StartRetryTimeout is how long to retry uploading while the instance
	// does not answer (e.g. during a restart). Default: "5m".
	StartRetryTimeout string `hcl:"start_retry_timeout"`
	// PauseAfter waits this long after the scripts ran successfully, e.g.
	// "30s", as Packer's pause_after does. Default: no pause.
	PauseAfter string `hcl:"pause_after" fingerprint:"-"`
	// ValidExitCodes are the exit codes that mean success. Default: [0].
	ValidExitCodes []int `hcl:"valid_exit_codes"`
	// UsePwsh runs scripts with pwsh (PowerShell 7) instead of Windows
	// PowerShell in the default commands. Default: false.
	UsePwsh bool `hcl:"use_pwsh"`
	// ExecutionPolicy is the PowerShell execution policy of the default
	// commands: bypass (default), allsigned, default, remotesigned,
	// restricted, undefined, unrestricted, or none to leave the flag out.
	ExecutionPolicy string `hcl:"execution_policy"`
	// DebugMode sets Set-PSDebug -Trace before the script in the default
	// commands: 0 (default, off), 1 (trace lines) or 2 (also variable
	// assignments and calls). The environment script is not traced.
	DebugMode int `hcl:"debug_mode"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	setString(&c.ExecutionPolicy, "bypass")
	c.ExecutionPolicy = strings.ToLower(c.ExecutionPolicy)
	def := defaultExecuteCommand(c.ExecutionPolicy, c.UsePwsh, c.DebugMode)
	setString(&c.ExecuteCommand, def)
	setString(&c.ElevatedExecuteCommand, def)
	setString(&c.StartRetryTimeout, DefaultStartRetryTimeout)
	c.ValidExitCodes = script.ExitCodes(c.ValidExitCodes)

	c.Source.Prepare(ctx)
	c.Env.Prepare(ctx)
	keys := []string{"Path", "Vars", "ExecutionPolicy"}
	script.Command(ctx, "execute_command", c.ExecuteCommand, keys...)
	script.Command(ctx, "elevated_execute_command", c.ElevatedExecuteCommand, keys...)
	ctx.Enum(check.Path("execution_policy"), c.ExecutionPolicy, policies...)
	ctx.DurationAttr(check.Path("start_retry_timeout"), c.StartRetryTimeout)
	ctx.DurationAttr(check.Path("pause_after"), c.PauseAfter)
	if c.DebugMode < 0 || c.DebugMode > 2 {
		ctx.Errorf(check.Path("debug_mode"), "Invalid value for debug_mode", "debug_mode must be 0, 1 or 2, got %d", c.DebugMode)
	}
	if c.ElevatedPassword != "" && c.ElevatedUser == "" && !ctx.IsUnknown("elevated_user") {
		ctx.Errorf(check.Path("elevated_password"), "elevated_password without elevated_user", "Set elevated_user to the user elevated_password belongs to.")
	}
}

// defaultExecuteCommand returns Packer's default command for the policy,
// interpreter and debug mode. Set-PSDebug comes after the environment
// script is dot-sourced, so tracing never prints an environment value.
func defaultExecuteCommand(policy string, pwsh bool, debug int) string {
	cmd := DefaultExecuteCommand
	if debug != 0 {
		cmd = strings.Replace(cmd, "&'{{.Path}}'", fmt.Sprintf("Set-PSDebug -Trace %d; &'{{.Path}}'", debug), 1)
	}
	if pwsh {
		cmd = strings.Replace(cmd, `powershell -executionpolicy {{.ExecutionPolicy}} "`, `pwsh -executionpolicy {{.ExecutionPolicy}} -command "`, 1)
	}
	if policy == "none" {
		cmd = strings.Replace(cmd, " -executionpolicy {{.ExecutionPolicy}}", "", 1)
	}
	return cmd
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

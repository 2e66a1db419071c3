// Package powershell is the configuration of the powershell provisioner,
// which will upload PowerShell scripts to a Windows instance and run them,
// optionally as another user. It needs the WinRM communicator, which is
// not implemented yet, so validate refuses every powershell provisioner.
package powershell

import (
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

// DefaultExecuteCommand is the default execute_command and
// elevated_execute_command; {{.ExecutionPolicy}} comes from execution_policy
// and the flag is left out when execution_policy is "none".
const DefaultExecuteCommand = `powershell -executionpolicy {{.ExecutionPolicy}} "& { if (Test-Path variable:global:ProgressPreference){set-variable -name variable:global:ProgressPreference -value 'SilentlyContinue'};. {{.Vars}}; &'{{.Path}}'; exit $LastExitCode }"`

// DefaultRemotePath is where scripts are uploaded by default.
const DefaultRemotePath = "c:/Windows/Temp/imgbuild-script.ps1"

var policies = []string{"bypass", "allsigned", "default", "remotesigned", "restricted", "undefined", "unrestricted", "none"}

// Config is the configuration of a provisioner "powershell" block.
type Config struct {
	script.Source
	script.Env

	// ExecuteCommand runs the uploaded script. Placeholders: {{.Path}},
	// {{.Vars}} (path of the script that sets the environment) and
	// {{.ExecutionPolicy}}. Default: DefaultExecuteCommand.
	ExecuteCommand string `hcl:"execute_command"`
	// ElevatedUser runs the scripts as this user through a scheduled task.
	// Needs elevated_password (which may be empty for system accounts).
	ElevatedUser string `hcl:"elevated_user"`
	// ElevatedPassword is elevated_user's password. Sensitive.
	ElevatedPassword string `hcl:"elevated_password" sensitive:"true"`
	// ElevatedExecuteCommand runs the script as elevated_user, with the
	// same placeholders as execute_command. Default: DefaultExecuteCommand.
	ElevatedExecuteCommand string `hcl:"elevated_execute_command"`
	// RemotePath is where each script is uploaded on the instance.
	// Default: "c:/Windows/Temp/imgbuild-script.ps1".
	RemotePath string `hcl:"remote_path"`
	// ValidExitCodes are the exit codes that mean success. Default: [0].
	ValidExitCodes []int `hcl:"valid_exit_codes"`
	// UsePwsh runs scripts with pwsh (PowerShell 7) instead of Windows
	// PowerShell. Default: false.
	UsePwsh bool `hcl:"use_pwsh"`
	// ExecutionPolicy is the PowerShell execution policy: bypass (default),
	// allsigned, default, remotesigned, restricted, undefined,
	// unrestricted, or none to leave it out.
	ExecutionPolicy string `hcl:"execution_policy"`
	// DebugMode sets Set-PSDebug -Trace: 0 (default, off), 1 (trace lines)
	// or 2 (also variable assignments and calls).
	DebugMode int `hcl:"debug_mode"`
}

// Refused is the name under which validate refuses every powershell
// provisioner until the WinRM communicator exists.
const Refused = `provisioner "powershell"`

// Prepare fills defaults and checks the configuration offline. Every
// provisioner is refused (Refused) before anything is created; the other
// checks still run so all problems are reported at once.
func (c *Config) Prepare(ctx *check.Context) {
	ctx.NotImplemented(nil, Refused,
		"It needs the WinRM communicator, which is not implemented yet: remove it.")
	setString(&c.ExecutionPolicy, "bypass")
	c.ExecutionPolicy = strings.ToLower(c.ExecutionPolicy)
	def := DefaultExecuteCommand
	if c.ExecutionPolicy == "none" {
		def = strings.Replace(def, "-executionpolicy {{.ExecutionPolicy}} ", "", 1)
	}
	setString(&c.ExecuteCommand, def)
	setString(&c.ElevatedExecuteCommand, def)
	setString(&c.RemotePath, DefaultRemotePath)
	c.ValidExitCodes = script.ExitCodes(c.ValidExitCodes)
	if c.UsePwsh {
		c.ExecuteCommand = strings.Replace(c.ExecuteCommand, "powershell ", "pwsh ", 1)
		c.ElevatedExecuteCommand = strings.Replace(c.ElevatedExecuteCommand, "powershell ", "pwsh ", 1)
	}

	c.Source.Prepare(ctx)
	c.Env.Prepare(ctx)
	keys := []string{"Path", "Vars", "ExecutionPolicy"}
	script.Command(ctx, "execute_command", c.ExecuteCommand, keys...)
	script.Command(ctx, "elevated_execute_command", c.ElevatedExecuteCommand, keys...)
	ctx.Enum(check.Path("execution_policy"), c.ExecutionPolicy, policies...)
	if c.DebugMode < 0 || c.DebugMode > 2 {
		ctx.Errorf(check.Path("debug_mode"), "Invalid value for debug_mode", "debug_mode must be 0, 1 or 2, got %d", c.DebugMode)
	}
	if c.ElevatedPassword != "" && c.ElevatedUser == "" && !ctx.IsUnknown("elevated_user") {
		ctx.Errorf(check.Path("elevated_password"), "elevated_password without elevated_user", "Set elevated_user to the user elevated_password belongs to.")
	}
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

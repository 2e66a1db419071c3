// Package windowsrestart is the configuration of the windows-restart
// provisioner, which will restart a Windows instance and wait until it is
// back. It needs the WinRM communicator, which is not implemented yet, so
// validate refuses every windows-restart provisioner.
package windowsrestart

import (
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
)

// Defaults of the windows-restart provisioner.
const (
	DefaultRestartCommand      = `shutdown /r /f /t 0 /c "imgbuild restart"`
	DefaultRestartCheckCommand = `powershell -command "& {Write-Output 'restarted.'}"`
	DefaultRestartTimeout      = "5m"
)

// DefaultRegistryKeys are the keys whose presence means a restart is
// still pending.
var DefaultRegistryKeys = []string{
	`HKLM:SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`,
	`HKLM:SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\PackagesPending`,
	`HKLM:Software\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootInProgress`,
}

// Config is the configuration of a provisioner "windows-restart" block.
type Config struct {
	// RestartCommand restarts the instance.
	// Default: `shutdown /r /f /t 0 /c "imgbuild restart"`.
	RestartCommand string `hcl:"restart_command"`
	// RestartCheckCommand is run until it succeeds, to tell the instance
	// is back. Default: a PowerShell command printing "restarted.".
	RestartCheckCommand string `hcl:"restart_check_command"`
	// RestartTimeout is how long to wait for the instance to come back,
	// e.g. "15m". Default: "5m".
	RestartTimeout string `hcl:"restart_timeout"`
	// CheckRegistry also waits until none of registry_keys exists.
	// Default: false.
	CheckRegistry bool `hcl:"check_registry"`
	// RegistryKeys are the keys checked with check_registry, as
	// "HKLM:SOFTWARE\..." paths. Default: DefaultRegistryKeys.
	RegistryKeys []string `hcl:"registry_keys"`
}

// Refused is the name under which validate refuses every windows-restart
// provisioner until the WinRM communicator exists.
const Refused = `provisioner "windows-restart"`

// Prepare fills defaults and checks the configuration offline. Every
// provisioner is refused (Refused) before anything is created; the other
// checks still run so all problems are reported at once.
func (c *Config) Prepare(ctx *check.Context) {
	ctx.NotImplemented(nil, Refused,
		"It needs the WinRM communicator, which is not implemented yet: remove it.")
	if c.RestartCommand == "" {
		c.RestartCommand = DefaultRestartCommand
	}
	if c.RestartCheckCommand == "" {
		c.RestartCheckCommand = DefaultRestartCheckCommand
	}
	if c.RestartTimeout == "" {
		c.RestartTimeout = DefaultRestartTimeout
	}
	if len(c.RegistryKeys) == 0 {
		c.RegistryKeys = append([]string(nil), DefaultRegistryKeys...)
	}
	ctx.DurationAttr(check.Path("restart_timeout"), c.RestartTimeout)
	for _, k := range c.RegistryKeys {
		if !strings.HasPrefix(k, "HK") || !strings.Contains(k, ":") {
			ctx.Errorf(check.Path("registry_keys"), "Invalid registry key", "%q is not a PowerShell registry path such as \"HKLM:SOFTWARE\\...\".", k)
		}
	}
}

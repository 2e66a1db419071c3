// Package windowsrestart is the windows-restart provisioner: it restarts
// a Windows instance and waits until it is back, with Packer's semantics
// (see Config.Provision for the sequence of commands).
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
	// RestartCheckCommand is run after the restart, every 5s, until it
	// exits 0, to tell the instance is back; its output is shown.
	// Default: a PowerShell command printing "restarted.".
	RestartCheckCommand string `hcl:"restart_check_command"`
	// RestartTimeout is how long to wait for the instance to come back
	// (restart_check_command, then check_registry), e.g. "15m"; it also
	// bounds the retries of restart_command while a shutdown is already
	// under way. Default: "5m".
	RestartTimeout string `hcl:"restart_timeout"`
	// CheckRegistry also waits until none of registry_keys exists (a
	// restart is no longer pending). Default: false.
	CheckRegistry bool `hcl:"check_registry"`
	// RegistryKeys are the keys checked with check_registry, as
	// "HKLM:SOFTWARE\..." paths. Default: DefaultRegistryKeys.
	RegistryKeys []string `hcl:"registry_keys"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
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
		switch {
		case !strings.HasPrefix(k, "HK") || !strings.Contains(k, ":"):
			ctx.Errorf(check.Path("registry_keys"), "Invalid registry key", "%q is not a PowerShell registry path such as \"HKLM:SOFTWARE\\...\".", k)
		case strings.Contains(k, ";"):
			ctx.Errorf(check.Path("registry_keys"), "Invalid registry key", "%q holds a \";\", which separates the keys in the registry check.", k)
		}
	}
}

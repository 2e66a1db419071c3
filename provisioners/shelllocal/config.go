// Package shelllocal is the shell-local provisioner: it runs commands on
// the machine running imgbuild, not on the instance.
package shelllocal

import (
	"runtime"
	"slices"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

// knownOS are the operating systems only_on accepts (GOOS names).
var knownOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}

// Config is the configuration of a provisioner "shell-local" block.
type Config struct {
	// Command is a single command to run; it is written to a temporary
	// script. Exactly one of command, inline, script and scripts is required.
	Command string `hcl:"command"`
	script.Source
	script.Env

	// ExecuteCommand is the argument list that runs a script.
	// Placeholders: {{.Script}} (local script path), {{.Vars}} (on Unix
	// "sh <file>", a file that exports the variables and runs what
	// follows; on Windows set "KEY=value" && assignments), {{.Command}}. Default: ["/bin/sh", "-c", "{{.Vars}} {{.Script}}"],
	// or ["cmd", "/V", "/C", "{{.Vars}}", "call", "{{.Script}}"] on Windows.
	ExecuteCommand []string `hcl:"execute_command"`
	// InlineShebang is the interpreter line of inline scripts.
	// Default: "/bin/sh -e" (none on Windows).
	InlineShebang string `hcl:"inline_shebang"`
	// OnlyOn limits the provisioner to these operating systems (Go GOOS
	// names such as "linux", "darwin", "windows"); elsewhere it is skipped.
	// Default: every system.
	OnlyOn []string `hcl:"only_on"`
	// UseLinuxPathing converts script paths for WSL on Windows hosts. Not
	// implemented yet: validate refuses it.
	UseLinuxPathing bool `hcl:"use_linux_pathing"`
	// ValidExitCodes are the exit codes that mean success. Default: [0].
	ValidExitCodes []int `hcl:"valid_exit_codes"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	ctx.RefuseSet(check.Path("use_linux_pathing"), c.UseLinuxPathing,
		"Converting script paths for WSL on Windows hosts is not implemented yet: remove it.")
	c.setDefaults(runtime.GOOS)
	c.Source.Prepare(ctx, script.Alternative{Name: "command", Set: c.Command != ""})
	c.Env.Prepare(ctx)
	for _, arg := range c.ExecuteCommand {
		script.Command(ctx, "execute_command", arg, "Script", "Vars", "Command")
	}
	for _, goos := range c.OnlyOn {
		ctx.Enum(check.Path("only_on"), goos, knownOS...)
	}
}

// RunsLocally reports that the provisioner runs on the machine running
// imgbuild, so it needs no connection to the instance: the template loader
// accepts it with communicator = "none".
func (Config) RunsLocally() bool { return true }

// Applies reports whether the provisioner runs on goos, per only_on.
func (c *Config) Applies(goos string) bool {
	return len(c.OnlyOn) == 0 || slices.Contains(c.OnlyOn, goos)
}

func (c *Config) setDefaults(goos string) {
	if len(c.ExecuteCommand) == 0 {
		c.ExecuteCommand = []string{"/bin/sh", "-c", "{{.Vars}} {{.Script}}"}
		if goos == "windows" {
			c.ExecuteCommand = []string{"cmd", "/V", "/C", "{{.Vars}}", "call", "{{.Script}}"}
		}
	}
	if c.InlineShebang == "" && goos != "windows" {
		c.InlineShebang = "/bin/sh -e"
	}
	c.ValidExitCodes = script.ExitCodes(c.ValidExitCodes)
}

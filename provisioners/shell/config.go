// Package shell is the shell provisioner: it uploads scripts to the
// instance and runs them over the communicator.
package shell

import (
	"fmt"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

// Default commands and formats.
const (
	DefaultExecuteCommand = "chmod +x {{.Path}}; {{.Vars}} {{.Path}}"
	EnvFileExecuteCommand = "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}"
	DefaultEnvVarFormat   = "%s='%s' "
	EnvFileEnvVarFormat   = "export %s='%s'\n"
	DefaultInlineShebang  = "/bin/sh -e"
	DefaultRemoteFolder   = "/tmp"
	// DefaultRemoteFile is the remote file name's pattern, Packer's
	// script_nnn.sh: each provisioner gets its own random number, so that
	// two builds sharing a /tmp do not meet.
	DefaultRemoteFile        = "script_%d.sh"
	DefaultStartRetryTimeout = "5m"
)

// Config is the configuration of a provisioner "shell" block.
type Config struct {
	script.Source
	script.Env

	// ExecuteCommand runs the uploaded script. Placeholders: {{.Path}}
	// (remote script path), {{.Vars}} and {{.EnvVarFile}}. The environment
	// (environment_vars, env, PACKER_BUILD_NAME, PACKER_BUILDER_TYPE) is
	// always uploaded to a file in remote_folder, readable by its owner
	// only and removed after the run, so no value appears on a command
	// line: {{.EnvVarFile}} is the file's path, to source, and {{.Vars}}
	// is "sh <file> ", which runs what follows it with the environment
	// (so Packer commands such as "sudo -E sh -c '{{.Vars}} {{.Path}}'"
	// keep working). Default: "chmod +x {{.Path}}; {{.Vars}} {{.Path}}",
	// or "chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}" with
	// use_env_var_file.
	ExecuteCommand string `hcl:"execute_command"`
	// InlineShebang is the interpreter line of the inline script.
	// Default: "/bin/sh -e".
	InlineShebang string `hcl:"inline_shebang"`
	// RemoteFolder is the directory scripts are uploaded to. Default: "/tmp".
	RemoteFolder string `hcl:"remote_folder"`
	// RemoteFile is the file name scripts are uploaded as. Default:
	// "script_<random number>.sh", as in Packer.
	RemoteFile string `hcl:"remote_file" fingerprint:"-"`
	// RemotePath is the full remote path. Default: remote_folder/remote_file.
	RemotePath string `hcl:"remote_path" fingerprint:"-"`
	// ExpectDisconnect treats a dropped connection as success (for
	// scripts that reboot). Default: false.
	ExpectDisconnect bool `hcl:"expect_disconnect"`
	// ValidExitCodes are the exit codes that mean success. Default: [0].
	ValidExitCodes []int `hcl:"valid_exit_codes"`
	// SkipClean leaves the uploaded scripts on the instance (never the
	// environment file). Default: false.
	SkipClean bool `hcl:"skip_clean"`
	// StartRetryTimeout is how long to retry starting the script while the
	// connection is unavailable (e.g. after a reboot). Default: "5m".
	StartRetryTimeout string `hcl:"start_retry_timeout"`
	// Binary uploads the scripts without converting line endings.
	// Default: false.
	Binary bool `hcl:"binary"`
	// UseEnvVarFile selects Packer's defaults for a sourced environment
	// file: execute_command sources {{.EnvVarFile}}, env_var_format is one
	// export a line. The environment travels in a file either way.
	// Default: false.
	UseEnvVarFile bool `hcl:"use_env_var_file"`
	// EnvVarFormat is the Printf format of one variable in the environment
	// file, with two %s (name, value); the value is escaped for single
	// quotes, and every assignment is exported. Default: "%s='%s' ", or
	// "export %s='%s'\n" with use_env_var_file.
	EnvVarFormat string `hcl:"env_var_format"`
	// PauseAfter waits this long after the scripts ran successfully, e.g.
	// "30s", as Packer's pause_after does. Default: no pause.
	PauseAfter string `hcl:"pause_after" fingerprint:"-"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.setDefaults()
	c.Source.Prepare(ctx)
	c.Env.Prepare(ctx)
	script.Command(ctx, "execute_command", c.ExecuteCommand, "Path", "Vars", "EnvVarFile")
	ctx.DurationAttr(check.Path("start_retry_timeout"), c.StartRetryTimeout)
	ctx.DurationAttr(check.Path("pause_after"), c.PauseAfter)
	if n := strings.Count(c.EnvVarFormat, "%s"); n != 2 {
		ctx.Errorf(check.Path("env_var_format"), "Invalid env_var_format", "env_var_format needs two %%s (name and value), found %d.", n)
	}
}

func (c *Config) setDefaults() {
	exec, format := DefaultExecuteCommand, DefaultEnvVarFormat
	if c.UseEnvVarFile {
		exec, format = EnvFileExecuteCommand, EnvFileEnvVarFormat
	}
	setString(&c.ExecuteCommand, exec)
	setString(&c.EnvVarFormat, format)
	setString(&c.InlineShebang, DefaultInlineShebang)
	setString(&c.RemoteFolder, DefaultRemoteFolder)
	setString(&c.RemoteFile, fmt.Sprintf(DefaultRemoteFile, script.RandomInt()))
	setString(&c.RemotePath, strings.TrimSuffix(c.RemoteFolder, "/")+"/"+c.RemoteFile)
	setString(&c.StartRetryTimeout, DefaultStartRetryTimeout)
	c.ValidExitCodes = script.ExitCodes(c.ValidExitCodes)
}

func setString(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

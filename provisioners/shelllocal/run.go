package shelllocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

var _ provision.Provisioner = (*Config)(nil)

// waitDelay bounds how long a cancelled command may keep its output open.
const waitDelay = 5 * time.Second

// RunEnv is what a local run needs besides the configuration.
type RunEnv struct {
	Out         io.Writer // receives progress and the commands' output
	BaseDir     string    // working directory: scripts resolve and run here
	BuildName   string    // PACKER_BUILD_NAME
	BuilderType string    // PACKER_BUILDER_TYPE
	// Extra are more variables for the scripts (a post-processor's
	// artifact); environment_vars and env override them.
	Extra []script.Var
}

// execData holds the placeholders of execute_command.
type execData struct {
	Script  string // local path of the script
	Vars    string // environment assignments
	Command string // the command attribute
}

// Provision runs the scripts on this machine, unless only_on excludes
// it. The builder's connection is not used.
func (c *Config) Provision(ctx context.Context, env *provision.Env) error {
	return c.Run(ctx, RunEnv{Out: env.Out, BaseDir: env.BaseDir, BuildName: env.BuildName, BuilderType: env.BuilderType})
}

// Run runs command, the inline commands or each script in order with
// execute_command, in the template directory, with the variables both in
// the process environment and behind {{.Vars}}: on Unix "sh <file>", a
// file (mode 0600, removed afterwards) that exports them and runs what
// follows, so that no value is in a process's arguments; on Windows
// Packer's set "KEY=value" && assignments. An exit status outside
// valid_exit_codes fails the run. When only_on excludes this system, Run
// says so and does nothing. It expects a Config that Prepare has filled.
func (c *Config) Run(ctx context.Context, env RunEnv) error {
	out := script.SyncWriter(env.Out)
	if !c.Applies(runtime.GOOS) {
		fmt.Fprintf(out, "Skipping shell-local: only_on %v does not include %s\n", c.OnlyOn, runtime.GOOS)
		return nil
	}
	vars := c.Env.Vars(env.BuildName, env.BuilderType, env.Extra...)
	scripts, cleanup, err := c.scripts(env.BaseDir)
	if err != nil {
		return err
	}
	defer cleanup()
	data := execData{Vars: flatten(vars, runtime.GOOS), Command: c.Command}
	if runtime.GOOS != "windows" {
		file, remove, err := envFile(vars)
		if err != nil {
			return err
		}
		defer remove()
		data.Vars = "sh " + script.ShellWord(file)
	}
	for _, s := range scripts {
		data.Script = s.path
		if err := c.runScript(ctx, env.BaseDir, out, s.name, data, script.Environ(vars)); err != nil {
			return err
		}
	}
	return nil
}

// runScript runs one script with execute_command.
func (c *Config) runScript(ctx context.Context, dir string, out io.Writer, name string, data execData, vars []string) error {
	argv := make([]string, len(c.ExecuteCommand))
	for i, arg := range c.ExecuteCommand {
		var err error
		if argv[i], err = script.RenderCommand("execute_command", arg, data); err != nil {
			return fmt.Errorf("script %s: %w", name, err)
		}
	}
	fmt.Fprintf(out, "Running local shell script: %s\n", name)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), vars...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("script %s: %w", name, ctx.Err())
	case errors.As(err, &exit):
	case err != nil:
		return fmt.Errorf("script %s: start %s: %w", name, argv[0], err)
	}
	if status := cmd.ProcessState.ExitCode(); !slices.Contains(c.ValidExitCodes, status) {
		return fmt.Errorf("script %s exited with status %d; valid exit codes are %v", name, status, c.ValidExitCodes)
	}
	return nil
}

// envFile writes vars to a new environment file (script.EnvFileBody)
// readable by this user only, and returns its path and its removal.
func envFile(vars []script.Var) (string, func(), error) {
	path, remove, err := writeTemp("imgbuild-env-*.sh", script.EnvFileBody(flatten(vars, "linux")), 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("write the environment file: %w", err)
	}
	return path, remove, nil
}

// writeTemp writes data to a new temporary file named after pattern (as
// os.CreateTemp) with mode, and returns its path and its removal; on
// error nothing is left.
func writeTemp(pattern string, data []byte, mode os.FileMode) (string, func(), error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	remove := func() { _ = os.Remove(f.Name()) }
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err = errors.Join(err, f.Close()); err != nil {
		remove()
		return "", nil, err
	}
	return f.Name(), remove, nil
}

// flatten formats the variables as Packer does for {{.Vars}}:
// KEY='value' with the value single-quoted on Unix (the environment
// file's body), set "KEY=value" && on Windows.
func flatten(vars []script.Var, goos string) string {
	if goos == "windows" {
		return script.Flatten(vars, `set "%s=%s" && `, func(s string) string { return s })
	}
	return strings.TrimSpace(script.Flatten(vars, "%s='%s' ", script.QuoteSingle))
}

// resolvedScript is one script to run.
type resolvedScript struct {
	name string // for messages
	path string // absolute local path
}

// scripts returns the scripts to run. command and inline are written to a
// temporary file that cleanup removes.
func (c *Config) scripts(baseDir string) ([]resolvedScript, func(), error) {
	switch {
	case c.Command != "":
		return tempScript("command", c.InlineShebang, []string{c.Command})
	case len(c.Inline) > 0:
		return tempScript("inline script", c.InlineShebang, c.Inline)
	}
	out := make([]resolvedScript, len(c.Scripts))
	for i, p := range c.Scripts {
		out[i] = resolvedScript{name: p, path: check.Resolve(baseDir, p)}
	}
	return out, func() {}, nil
}

// tempScript writes lines to an executable temporary script.
func tempScript(name, shebang string, lines []string) ([]resolvedScript, func(), error) {
	pattern := "imgbuild-shell-local-*.sh"
	if runtime.GOOS == "windows" {
		pattern = "imgbuild-shell-local-*.cmd"
	}
	path, cleanup, err := writeTemp(pattern, []byte(script.InlineScript(shebang, lines)), 0o700)
	if err != nil {
		return nil, nil, fmt.Errorf("write %s: %w", name, err)
	}
	return []resolvedScript{{name: name, path: path}}, cleanup, nil
}

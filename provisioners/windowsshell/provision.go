package windowsshell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

var _ provision.Provisioner = (*Config)(nil)

// execData holds the placeholders of execute_command.
type execData struct {
	Path string // remote path of the uploaded script
	Vars string // the environment: `set "NAME=value" && ` a variable
}

// session is one run of the provisioner on one instance.
type session struct {
	script.Retrier
	c    *Config
	comm provision.Communicator
	out  io.Writer
	log  hclog.Logger
}

// Provision uploads each script and runs it with execute_command. A
// script whose exit status is not in valid_exit_codes fails the
// provisioner; the remaining scripts do not run. The scripts stay on the
// instance, as with Packer. It expects a Config that Prepare has filled.
func (c *Config) Provision(ctx context.Context, env *provision.Env) error {
	if env.Comm == nil {
		return errors.New(`windows-shell needs a connection to the instance; the source has communicator = "none"`)
	}
	vars := c.Env.Vars(env.BuildName, env.BuilderType)
	for _, v := range vars {
		if err := cmdValue(v.Name, v.Value); err != nil {
			return err
		}
	}
	// Inline commands become one batch file with CRLF line ends, which cmd
	// needs for labels.
	scripts, err := c.Source.Load(env.BaseDir, []byte(strings.Join(c.Inline, "\r\n")+"\r\n"), fmt.Sprintf("imgbuild-inline-%s.bat", script.RandomHex(4)))
	if err != nil {
		return err
	}
	out := script.SyncWriter(env.Out)
	s := &session{c: c, comm: env.Comm, out: out, log: env.Logger,
		Retrier: script.Retrier{Comm: env.Comm, Out: out, Log: env.Logger, Timeout: check.DurationValue(c.StartRetryTimeout)}}
	flat := script.Flatten(vars, c.EnvVarFormat, func(v string) string { return v })
	for _, sc := range scripts {
		if err := s.runScript(ctx, sc, flat); err != nil {
			return err
		}
	}
	return nil
}

// cmdValue checks that value can be set with set "NAME=value": cmd has
// no way to escape a double quote there, and a line break ends the
// command. The error names the variable, never the value.
func cmdValue(name, value string) error {
	if strings.ContainsAny(value, "\"\r\n") {
		return fmt.Errorf("the value of %s holds a double quote or a line break, which windows-shell cannot pass to cmd", name)
	}
	return nil
}

// runScript uploads one script and runs it.
func (s *session) runScript(ctx context.Context, sc script.Local, vars string) error {
	data := execData{Path: script.RemotePath(s.c.RemotePath, DefaultRemotePath, sc), Vars: vars}
	command, err := script.RenderCommand("execute_command", s.c.ExecuteCommand, data)
	if err != nil {
		return fmt.Errorf("script %s: %w", sc.Name, err)
	}
	fmt.Fprintf(s.out, "Provisioning with windows-shell script: %s\n", sc.Name)
	err = s.Retry(ctx, "upload script "+sc.Name, func(ctx context.Context) error {
		return s.comm.Upload(ctx, data.Path, bytes.NewReader(sc.Body), 0o644)
	})
	if err != nil {
		return err
	}
	status, err := s.comm.Run(ctx, &provision.Cmd{Command: command, Stdout: s.out, Stderr: s.out})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("script %s: %w", sc.Name, ctx.Err())
	case err != nil:
		return fmt.Errorf("script %s: %w", sc.Name, err)
	case !slices.Contains(s.c.ValidExitCodes, status):
		return fmt.Errorf("script %s exited with status %d; valid exit codes are %v", sc.Name, status, s.c.ValidExitCodes)
	}
	return nil
}

package powershell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

var _ provision.Provisioner = (*Config)(nil)

// removeTimeout bounds the removal of the environment script after the
// run, which is attempted even when the run was interrupted.
const removeTimeout = time.Minute

// execData holds the placeholders of execute_command and
// elevated_execute_command.
type execData struct {
	Path            string // remote path of the uploaded script
	Vars            string // remote path of the environment script, to dot-source
	ExecutionPolicy string // execution_policy
}

// session is one run of the provisioner on one instance.
type session struct {
	script.Retrier
	c    *Config
	comm provision.Communicator
	out  io.Writer
	log  hclog.Logger
	// temporary are the remote files removed after the run: the
	// environment script and the elevated wrappers.
	temporary []string
}

// Provision uploads the environment script, then each script (the inline
// commands joined into one script, or script and scripts in order), and
// runs it with execute_command, or as elevated_user through a scheduled
// task. A script whose exit status is not in valid_exit_codes fails the
// provisioner; the remaining scripts do not run. The environment script
// and the elevated wrappers are removed afterwards; the scripts stay, as
// with Packer's skip_clean. It expects a Config that Prepare has filled.
func (c *Config) Provision(ctx context.Context, env *provision.Env) error {
	if env.Comm == nil {
		return errors.New(`powershell needs a connection to the instance; the source has communicator = "none"`)
	}
	scripts, err := c.Source.Load(env.BaseDir, []byte(strings.Join(c.Inline, "\n")+"\n"), fmt.Sprintf("imgbuild-inline-%s.ps1", script.RandomHex(4)))
	if err != nil {
		return err
	}
	out := script.SyncWriter(env.Out)
	s := &session{c: c, comm: env.Comm, out: out, log: env.Logger,
		Retrier: script.Retrier{Comm: env.Comm, Out: out, Log: env.Logger, Timeout: check.DurationValue(c.StartRetryTimeout)}}
	if err := s.run(ctx, scripts, c.Env.Vars(env.BuildName, env.BuilderType)); err != nil {
		return err
	}
	return script.PauseAfter(ctx, out, c.PauseAfter)
}

// run uploads the environment script, runs the scripts in order, then
// removes the temporary files.
func (s *session) run(ctx context.Context, scripts []script.Local, vars []script.Var) (err error) {
	envPath := s.c.RemoteEnvVarPath
	if envPath == "" {
		envPath = fmt.Sprintf(DefaultRemoteEnvVarPath, script.RandomHex(8))
	}
	if err := s.upload(ctx, "environment script", envPath, EnvFileBody(vars), 0o600); err != nil {
		return err
	}
	s.temporary = append(s.temporary, envPath)
	// The environment script holds the values and a wrapper holds the
	// password: they go even when ctx is done (an interrupt) if the
	// instance still answers.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
		defer cancel()
		err = errors.Join(err, s.remove(rctx))
	}()
	for _, sc := range scripts {
		if err := s.runScript(ctx, sc, envPath); err != nil {
			return err
		}
	}
	return nil
}

// runScript uploads one script and runs it.
func (s *session) runScript(ctx context.Context, sc script.Local, envPath string) error {
	data := execData{Path: script.RemotePath(s.c.RemotePath, DefaultRemotePath, sc), Vars: envPath, ExecutionPolicy: s.c.ExecutionPolicy}
	attr, tpl := "execute_command", s.c.ExecuteCommand
	if s.c.ElevatedUser != "" {
		attr, tpl = "elevated_execute_command", s.c.ElevatedExecuteCommand
	}
	command, err := script.RenderCommand(attr, tpl, data)
	if err != nil {
		return fmt.Errorf("script %s: %w", sc.Name, err)
	}
	fmt.Fprintf(s.out, "Provisioning with powershell script: %s\n", sc.Name)
	if err := s.upload(ctx, "script "+sc.Name, data.Path, sc.Body, 0o644); err != nil {
		return err
	}
	if s.c.ElevatedUser != "" {
		if command, err = s.elevate(ctx, sc, command); err != nil {
			return err
		}
	}
	status, err := s.comm.Run(ctx, &provision.Cmd{Command: command, Stdout: s.out, Stderr: s.out})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("script %s: %w", sc.Name, ctx.Err())
	case err != nil:
		s.Stale = true
		return fmt.Errorf("script %s: %w", sc.Name, err)
	case !slices.Contains(s.c.ValidExitCodes, status):
		return fmt.Errorf("script %s exited with status %d; valid exit codes are %v", sc.Name, status, s.c.ValidExitCodes)
	}
	return nil
}

// elevate uploads the wrapper that runs command as elevated_user through
// a scheduled task and returns the command that runs the wrapper. Neither
// command holds the password; only the wrapper does.
func (s *session) elevate(ctx context.Context, sc script.Local, command string) (string, error) {
	id := script.RandomHex(8)
	task := elevatedTask{
		Name:     fmt.Sprintf(elevatedTaskName, id),
		User:     s.c.ElevatedUser,
		Password: s.c.ElevatedPassword,
		Command:  command,
		Log:      fmt.Sprintf(elevatedLogPath, id),
	}
	path := fmt.Sprintf(elevatedScriptPath, id)
	s.temporary = append(s.temporary, path)
	if err := s.upload(ctx, "elevated wrapper of script "+sc.Name, path, task.wrapper(), 0o600); err != nil {
		return "", err
	}
	return runFileCommand(path), nil
}

// upload copies body to dst on the instance, retrying while the
// connection is unavailable.
func (s *session) upload(ctx context.Context, what, dst string, body []byte, mode os.FileMode) error {
	return s.Retry(ctx, "upload "+what, func(ctx context.Context) error {
		return s.comm.Upload(ctx, dst, bytes.NewReader(body), mode)
	})
}

// remove deletes the temporary files on the instance.
func (s *session) remove(ctx context.Context) error {
	cmd := &provision.Cmd{Command: removeCommand(s.temporary), Stdout: io.Discard, Stderr: s.out}
	var status int
	const what = "remove the temporary files (environment script, elevated wrappers) from the instance"
	err := s.Retry(ctx, what, func(ctx context.Context) (err error) {
		status, err = s.comm.Run(ctx, cmd)
		return err
	})
	if err == nil && status != 0 {
		err = fmt.Errorf("%s: exited with status %d", what, status)
	}
	return err
}

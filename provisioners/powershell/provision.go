package powershell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// localScript is one script to upload, read before anything runs.
type localScript struct {
	name string // for messages: "inline script" or the path as configured
	base string // file name used when remote_path is a directory
	body []byte
}

// session is one run of the provisioner on one instance.
type session struct {
	c    *Config
	comm provision.Communicator
	out  io.Writer
	log  hclog.Logger
	// stale is set after the connection dropped; the next operation
	// reconnects first.
	stale bool
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
	scripts, err := c.load(env.BaseDir)
	if err != nil {
		return err
	}
	s := &session{c: c, comm: env.Comm, out: script.SyncWriter(env.Out), log: env.Logger}
	return s.run(ctx, scripts, c.Env.Vars(env.BuildName, env.BuilderType))
}

// load reads every script before the first one runs, so a missing file
// fails the provisioner before it changes the instance.
func (c *Config) load(baseDir string) ([]localScript, error) {
	if len(c.Inline) > 0 {
		body := strings.Join(c.Inline, "\n") + "\n"
		return []localScript{{name: "inline script", base: fmt.Sprintf("imgbuild-inline-%s.ps1", randomHex(4)), body: []byte(body)}}, nil
	}
	out := make([]localScript, 0, len(c.Scripts))
	for _, p := range c.Scripts {
		body, err := os.ReadFile(check.Resolve(baseDir, p))
		if err != nil {
			return nil, fmt.Errorf("read script %s: %w", p, err)
		}
		out = append(out, localScript{name: p, base: filepath.Base(p), body: body})
	}
	return out, nil
}

// remotePath returns where sc is uploaded.
func (c *Config) remotePath(sc localScript) string {
	switch p := c.RemotePath; {
	case p == "":
		return fmt.Sprintf(DefaultRemotePath, randomHex(4))
	case strings.HasSuffix(p, "/") || strings.HasSuffix(p, `\`):
		return p + sc.base
	default:
		return p
	}
}

// run uploads the environment script, runs the scripts in order, then
// removes the temporary files.
func (s *session) run(ctx context.Context, scripts []localScript, vars []script.Var) (err error) {
	envPath := s.c.RemoteEnvVarPath
	if envPath == "" {
		envPath = fmt.Sprintf(DefaultRemoteEnvVarPath, randomHex(8))
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
func (s *session) runScript(ctx context.Context, sc localScript, envPath string) error {
	data := execData{Path: s.c.remotePath(sc), Vars: envPath, ExecutionPolicy: s.c.ExecutionPolicy}
	attr, tpl := "execute_command", s.c.ExecuteCommand
	if s.c.ElevatedUser != "" {
		attr, tpl = "elevated_execute_command", s.c.ElevatedExecuteCommand
	}
	command, err := script.RenderCommand(attr, tpl, data)
	if err != nil {
		return fmt.Errorf("script %s: %w", sc.name, err)
	}
	fmt.Fprintf(s.out, "Provisioning with powershell script: %s\n", sc.name)
	if err := s.upload(ctx, "script "+sc.name, data.Path, sc.body, 0o644); err != nil {
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
		return fmt.Errorf("script %s: %w", sc.name, ctx.Err())
	case err != nil:
		s.stale = true
		return fmt.Errorf("script %s: %w", sc.name, err)
	case !slices.Contains(s.c.ValidExitCodes, status):
		return fmt.Errorf("script %s exited with status %d; valid exit codes are %v", sc.name, status, s.c.ValidExitCodes)
	}
	return nil
}

// elevate uploads the wrapper that runs command as elevated_user through
// a scheduled task and returns the command that runs the wrapper. Neither
// command holds the password; only the wrapper does.
func (s *session) elevate(ctx context.Context, sc localScript, command string) (string, error) {
	id := randomHex(8)
	task := elevatedTask{
		Name:     fmt.Sprintf(elevatedTaskName, id),
		User:     s.c.ElevatedUser,
		Password: s.c.ElevatedPassword,
		Command:  command,
		Log:      fmt.Sprintf(elevatedLogPath, id),
	}
	path := fmt.Sprintf(elevatedScriptPath, id)
	s.temporary = append(s.temporary, path)
	if err := s.upload(ctx, "elevated wrapper of script "+sc.name, path, task.wrapper(), 0o600); err != nil {
		return "", err
	}
	return runFileCommand(path), nil
}

// upload copies body to dst on the instance, retrying while the
// connection is unavailable.
func (s *session) upload(ctx context.Context, what, dst string, body []byte, mode os.FileMode) error {
	return s.retry(ctx, "upload "+what, func(ctx context.Context) error {
		return s.comm.Upload(ctx, dst, bytes.NewReader(body), mode)
	})
}

// remove deletes the temporary files on the instance.
func (s *session) remove(ctx context.Context) error {
	cmd := &provision.Cmd{Command: removeCommand(s.temporary), Stdout: io.Discard, Stderr: s.out}
	var status int
	const what = "remove the temporary files (environment script, elevated wrappers) from the instance"
	err := s.retry(ctx, what, func(ctx context.Context) (err error) {
		status, err = s.comm.Run(ctx, cmd)
		return err
	})
	if err == nil && status != 0 {
		err = fmt.Errorf("%s: exited with status %d", what, status)
	}
	return err
}

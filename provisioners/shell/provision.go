package shell

import (
	"github.com/hashicorp/go-hclog"

	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

var _ provision.Provisioner = (*Config)(nil)

// execData holds the placeholders of execute_command. Neither holds an
// environment value: the values travel in the environment file.
type execData struct {
	Path       string // remote path of the uploaded script
	Vars       string // runs the rest of the command with the environment: "sh <env file> "
	EnvVarFile string // remote path of the environment file, to source
}

// localScript is one script to upload, read before anything runs.
type localScript struct {
	name string // for messages: "inline script" or the path as configured
	body []byte
}

// session is one run of the provisioner on one instance.
type session struct {
	script.Retrier
	c    *Config
	comm provision.Communicator
	out  io.Writer
	log  hclog.Logger
}

func newSession(c *Config, env *provision.Env) *session {
	out := script.SyncWriter(env.Out)
	return &session{c: c, comm: env.Comm, out: out, log: env.Logger,
		Retrier: script.Retrier{Comm: env.Comm, Out: out, Log: env.Logger, Timeout: check.DurationValue(c.StartRetryTimeout)}}
}

// Provision uploads each script (the inline commands, or script and
// scripts in order) to the instance and runs it with execute_command. A
// script whose exit status is not in valid_exit_codes fails the
// provisioner; the remaining scripts do not run. It expects a Config that
// Prepare has filled.
func (c *Config) Provision(ctx context.Context, env *provision.Env) error {
	if env.Comm == nil {
		return errors.New(`shell needs a connection to the instance; the source has communicator = "none"`)
	}
	scripts, err := c.load(env.BaseDir)
	if err != nil {
		return err
	}
	s := newSession(c, env)
	vars := c.Env.Vars(env.BuildName, env.BuilderType)
	if err := s.run(ctx, scripts, script.Flatten(vars, c.EnvVarFormat, script.QuoteSingle)); err != nil {
		return err
	}
	return script.PauseAfter(ctx, s.out, c.PauseAfter)
}

// load reads every script before the first one runs, so a missing file
// fails the provisioner before it changes the instance.
func (c *Config) load(baseDir string) ([]localScript, error) {
	if len(c.Inline) > 0 {
		body := script.InlineScript(c.InlineShebang, c.Inline)
		return []localScript{{name: "inline script", body: []byte(body)}}, nil
	}
	out := make([]localScript, 0, len(c.Scripts))
	for _, p := range c.Scripts {
		body, err := os.ReadFile(check.Resolve(baseDir, p))
		if err != nil {
			return nil, fmt.Errorf("read script %s: %w", p, err)
		}
		if !c.Binary {
			body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
		}
		out = append(out, localScript{name: p, body: body})
	}
	return out, nil
}

// remotePath returns where script i is uploaded: remote_path for the
// first script, and remote_path with "-i" before its extension for the
// others, so skip_clean leaves every script behind.
func remotePath(p string, i int) string {
	if i == 0 {
		return p
	}
	ext := path.Ext(p)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(p, ext), i, ext)
}

// run uploads the environment file, runs the scripts in order, then
// removes the file.
func (s *session) run(ctx context.Context, scripts []localScript, vars string) (err error) {
	file := envFilePath(s.c.RemoteFolder)
	if err := s.upload(ctx, "environment file", file, script.EnvFileBody(vars), 0o600); err != nil {
		return err
	}
	// The file holds the values, so it goes even with skip_clean, and even
	// when ctx is done (an interrupt) if the instance still answers.
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
		defer cancel()
		err = errors.Join(err, s.remove(rctx, "environment file", file))
	}()
	data := execData{Vars: "sh " + script.ShellWord(file) + " ", EnvVarFile: file}
	for i, sc := range scripts {
		data.Path = remotePath(s.c.RemotePath, i)
		if err := s.runScript(ctx, sc, data); err != nil {
			return err
		}
	}
	return nil
}

// runScript uploads one script, runs it and removes it.
func (s *session) runScript(ctx context.Context, sc localScript, data execData) error {
	command, err := script.RenderCommand("execute_command", s.c.ExecuteCommand, data)
	if err != nil {
		return fmt.Errorf("script %s: %w", sc.name, err)
	}
	if err := s.upload(ctx, "script "+sc.name, data.Path, sc.body, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Provisioning with shell script: %s\n", sc.name)
	status, err := s.comm.Run(ctx, &provision.Cmd{Command: command, Stdout: s.out, Stderr: s.out})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("script %s: %w", sc.name, ctx.Err())
	case err != nil && s.c.ExpectDisconnect:
		fmt.Fprintf(s.out, "Script %s disconnected, as expect_disconnect allows\n", sc.name)
		s.Debug("disconnect", "script", sc.name, "error", err)
		s.Stale = true
	case err != nil:
		return fmt.Errorf("script %s: %w (set expect_disconnect if the script reboots)", sc.name, err)
	case !slices.Contains(s.c.ValidExitCodes, status):
		return fmt.Errorf("script %s exited with status %d; valid exit codes are %v", sc.name, status, s.c.ValidExitCodes)
	}
	if s.c.SkipClean {
		return nil
	}
	return s.remove(ctx, "script "+sc.name, data.Path)
}

// upload copies body to dst on the instance, retrying while the
// connection is unavailable.
func (s *session) upload(ctx context.Context, what, dst string, body []byte, mode os.FileMode) error {
	return s.Retry(ctx, "upload "+what, func(ctx context.Context) error {
		return s.comm.Upload(ctx, dst, bytes.NewReader(body), mode)
	})
}

// remove deletes p on the instance.
func (s *session) remove(ctx context.Context, what, p string) error {
	cmd := &provision.Cmd{Command: "rm -f '" + script.QuoteSingle(p) + "'", Stdout: io.Discard, Stderr: s.out}
	var status int
	err := s.Retry(ctx, "remove "+what+" from the instance", func(ctx context.Context) (err error) {
		status, err = s.comm.Run(ctx, cmd)
		return err
	})
	if err == nil && status != 0 {
		err = fmt.Errorf("remove %s from the instance: rm exited with status %d", what, status)
	}
	return err
}

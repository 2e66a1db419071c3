package windowsshell

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	scripts, err := c.load(env.BaseDir)
	if err != nil {
		return err
	}
	s := &session{c: c, comm: env.Comm, out: script.SyncWriter(env.Out), log: env.Logger}
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

// load reads every script before the first one runs, so a missing file
// fails the provisioner before it changes the instance. Inline commands
// become one batch file with CRLF line ends, which cmd needs for labels.
func (c *Config) load(baseDir string) ([]localScript, error) {
	if len(c.Inline) > 0 {
		body := strings.Join(c.Inline, "\r\n") + "\r\n"
		return []localScript{{name: "inline script", base: fmt.Sprintf("imgbuild-inline-%s.bat", randomHex(4)), body: []byte(body)}}, nil
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

// runScript uploads one script and runs it.
func (s *session) runScript(ctx context.Context, sc localScript, vars string) error {
	data := execData{Path: s.c.remotePath(sc), Vars: vars}
	command, err := script.RenderCommand("execute_command", s.c.ExecuteCommand, data)
	if err != nil {
		return fmt.Errorf("script %s: %w", sc.name, err)
	}
	fmt.Fprintf(s.out, "Provisioning with windows-shell script: %s\n", sc.name)
	err = s.retry(ctx, "upload script "+sc.name, func(ctx context.Context) error {
		return s.comm.Upload(ctx, data.Path, bytes.NewReader(sc.body), 0o644)
	})
	if err != nil {
		return err
	}
	status, err := s.comm.Run(ctx, &provision.Cmd{Command: command, Stdout: s.out, Stderr: s.out})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("script %s: %w", sc.name, ctx.Err())
	case err != nil:
		return fmt.Errorf("script %s: %w", sc.name, err)
	case !slices.Contains(s.c.ValidExitCodes, status):
		return fmt.Errorf("script %s exited with status %d; valid exit codes are %v", sc.name, status, s.c.ValidExitCodes)
	}
	return nil
}

// randomHex returns n random bytes in hexadecimal.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24)
	return hex.EncodeToString(b)
}

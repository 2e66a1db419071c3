package sysprep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/interpolate"
	"github.com/imgbuild/imgbuild/internal/provision"
	"github.com/imgbuild/imgbuild/provisioners/script"
)

var _ provision.Provisioner = (*Config)(nil)

// Where the scripts go; %s is a new random suffix for each run.
const (
	prepareScriptPath = "C:/Windows/Temp/imgbuild-sysprep-%s.ps1"
	runScriptPath     = "C:/Windows/Temp/imgbuild-sysprep-%s-run.ps1"
)

// administrator is the account admin_password = "keep" is about.
const administrator = "Administrator"

// session is one run of the provisioner on one instance.
type session struct {
	comm  provision.Communicator
	out   io.Writer
	log   hclog.Logger
	agent Agent
}

// Provision chooses the launch agent, uploads and runs the prepare script
// (the agent's settings, then the cleanup), then uploads and runs the
// script with the agent's Sysprep command, which shuts Windows down. A
// connection lost while that command runs is what is expected and is
// success; the builder then waits for the instance to stop. It expects a
// Config that Prepare has filled.
func (c *Config) Provision(ctx context.Context, env *provision.Env) error {
	if env.Comm == nil {
		return errors.New(`sysprep needs a connection to the instance; the source has communicator = "none"`)
	}
	log := env.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &session{comm: env.Comm, out: script.SyncWriter(env.Out), log: log}
	agent, why, err := c.chooseAgent(env.Data.SourceAMIName)
	if err != nil {
		return err
	}
	s.agent = agent
	log.Info(fmt.Sprintf("sysprep: agent %s (%s)", agent.DisplayName(), why))
	fmt.Fprintf(s.out, "Sysprep with %s (%s)\n", agent.DisplayName(), why)
	if agent == EC2LaunchV2 && !c.runUserData() {
		const warning = "run_user_data = false has no effect with EC2Launch v2: instances launched from the image run their user data"
		log.Warn("sysprep: " + warning)
		fmt.Fprintln(s.out, "Warning: "+warning)
	}
	p, err := c.plan(agent, env.Data)
	if err != nil {
		return err
	}
	id := script.RandomHex(4)
	if err := s.prepare(ctx, fmt.Sprintf(prepareScriptPath, id), prepareScript(p)); err != nil {
		return err
	}
	return s.sysprep(ctx, fmt.Sprintf(runScriptPath, id))
}

// chooseAgent returns the agent and, for messages, why it is the one.
func (c *Config) chooseAgent(imageName string) (Agent, string, error) {
	if c.Agent != "" {
		return Agent(c.Agent), fmt.Sprintf("agent = %q", c.Agent), nil
	}
	agent, err := AgentFor(imageName, c.WindowsVersion)
	if err != nil {
		return "", "", err
	}
	why := "source image " + imageName
	if c.WindowsVersion != "" && !isEC2LaunchV2Image(imageName) {
		why = fmt.Sprintf("windows_version = %q", c.WindowsVersion)
	}
	return agent, why, nil
}

// plan returns what the prepare script does. For admin_password = "keep"
// EC2Launch v2 and v1 need the password to set again after Sysprep: the
// build's, which must be Administrator's.
func (c *Config) plan(agent Agent, data interpolate.Data) (plan, error) {
	p := plan{
		agent:         agent,
		keepPassword:  c.AdminPassword == PasswordKeep,
		computerName:  c.ComputerName,
		runUserData:   c.runUserData(),
		cleanTemp:     c.cleanTemp(),
		zeroFreeSpace: c.ZeroFreeSpace,
	}
	if !p.keepPassword || agent == EC2Config {
		return p, nil
	}
	if data.User != "" && !strings.EqualFold(data.User, administrator) {
		return plan{}, fmt.Errorf(`admin_password = "keep" keeps the Administrator password the build connected with, `+
			`but the build connects as %q: connect as Administrator, or use admin_password = "random"`, data.User)
	}
	if data.Password == "" {
		return plan{}, fmt.Errorf(`admin_password = "keep" needs the build's Administrator password for %s to set it again `+
			`after Sysprep, and the build has none: set winrm_password, or let the builder read it with GetPasswordData`, agent.DisplayName())
	}
	p.password = data.Password
	return p, nil
}

// prepare uploads the prepare script and runs it.
func (s *session) prepare(ctx context.Context, path, body string) error {
	what := "the " + s.agent.DisplayName() + " settings script"
	if err := s.upload(ctx, what, path, body); err != nil {
		return err
	}
	status, err := s.comm.Run(ctx, &provision.Cmd{Command: runFileCommand(path), Stdout: s.out, Stderr: s.out})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("run %s: %w", what, ctx.Err())
	case err != nil:
		return fmt.Errorf("run %s: %w", what, err)
	case status != 0:
		return fmt.Errorf("%s exited with status %d (its output is above); Sysprep did not run", what, status)
	}
	return nil
}

// sysprep uploads the run script and runs it. Windows shuts down when
// Sysprep is done, which may end the connection before the command
// returns: a transport error once the command was sent is success. A
// non-zero status is a failure: Sysprep did not start.
func (s *session) sysprep(ctx context.Context, path string) error {
	command := s.agent.SysprepCommand()
	if err := s.upload(ctx, "the Sysprep script", path, runScript(s.agent)); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "Running %s\n", command)
	status, err := s.comm.Run(ctx, &provision.Cmd{Command: runFileCommand(path), Stdout: s.out, Stderr: s.out})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("%s Sysprep: %w", s.agent.DisplayName(), ctx.Err())
	case err != nil:
		s.log.Debug("sysprep: connection lost after the Sysprep command, as expected", "error", err)
		fmt.Fprintln(s.out, "The connection closed as Windows shuts down for Sysprep")
	case status != 0:
		return fmt.Errorf("%s's Sysprep command exited with status %d (its output is above): %s",
			s.agent.DisplayName(), status, command)
	default:
		fmt.Fprintln(s.out, "Sysprep started: Windows shuts down when it is done")
	}
	return nil
}

// upload copies body to path on the instance. After a failure it
// reconnects and tries once more: the connection may have gone stale
// while the earlier provisioners ran.
func (s *session) upload(ctx context.Context, what, path, body string) error {
	err := s.comm.Upload(ctx, path, strings.NewReader(body), 0o600)
	if err == nil || ctx.Err() != nil {
		return wrapUpload(what, err)
	}
	s.log.Debug("sysprep: upload failed; reconnecting", "path", path, "error", err)
	if rerr := s.comm.Reconnect(ctx); rerr != nil {
		return wrapUpload(what, errors.Join(err, fmt.Errorf("reconnect: %w", rerr)))
	}
	return wrapUpload(what, s.comm.Upload(ctx, path, strings.NewReader(body), 0o600))
}

func wrapUpload(what string, err error) error {
	if err != nil {
		return fmt.Errorf("upload %s: %w", what, err)
	}
	return nil
}

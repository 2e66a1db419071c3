package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/imgbuild/imgbuild/internal/localcloud"
)

var localcloudCommand = command{
	synopsis: "Run a local EC2 endpoint (moto + realism layer + sshd) for tests and demos",
	usage:    "localcloud [--profile instant|realistic|hostile] [--addr 127.0.0.1:PORT] [--env-file FILE] [--set name=value]... [-- COMMAND [ARGS...]]",
	run:      runLocalcloud,
}

// localcloudOptions are the flags of `imgbuild localcloud`.
type localcloudOptions struct {
	profile string
	addr    string
	envFile string
	sets    stringList
	command []string // run this with the cloud's environment, then stop
}

func runLocalcloud(ctx context.Context, e *env, args []string) int {
	var o localcloudOptions
	fs := newFlagSet(e, "localcloud")
	fs.StringVar(&o.profile, "profile", localcloud.Realistic, "instant, realistic or hostile")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback `host:port` to listen on (port 0: a free port)")
	fs.StringVar(&o.envFile, "env-file", "", "write the AWS_* variables to `FILE` (for: set -a; . FILE)")
	fs.Var(&o.sets, "set", "override one setting, `name=value` (repeatable); settings:\n"+settingsHelp())
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	o.command = fs.Args()
	s, err := localcloudSettings(o, e.getenv)
	if err != nil {
		e.ui.Error("%v", err)
		return exitUsage
	}
	return serveLocalcloud(ctx, e, o, s)
}

// localcloudSettings applies the profile, then the environment, then --set.
func localcloudSettings(o localcloudOptions, getenv func(string) string) (localcloud.Settings, error) {
	s, err := localcloud.ProfileSettings(o.profile)
	if err != nil {
		return s, err
	}
	if err := s.ApplyEnv(getenv); err != nil {
		return s, err
	}
	for _, kv := range o.sets {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return s, fmt.Errorf("--set %q: want name=value", kv)
		}
		if err := s.Set(name, value); err != nil {
			return s, err
		}
	}
	return s, nil
}

func serveLocalcloud(ctx context.Context, e *env, o localcloudOptions, s localcloud.Settings) int {
	log, closeLog := newLogger(e)
	defer closeLog()
	cloud, err := localcloud.Start(ctx, localcloud.Options{Settings: s, Addr: o.addr, Logger: log.Named("localcloud")})
	if err != nil {
		e.ui.Error("start local cloud: %v", err)
		return exitFailed
	}
	if argv := o.command; len(argv) > 0 {
		code := runWithCloud(ctx, e, cloud, argv)
		if err := cloud.Close(); err != nil {
			e.ui.Error("stop local cloud: %v", err)
			return exitFailed
		}
		return code
	}
	code := exitOK
	env := strings.Join(cloud.Env(), "\n") + "\n"
	if o.envFile != "" {
		if err := os.WriteFile(o.envFile, []byte(env), 0o644); err != nil {
			e.ui.Error("write env file: %v", err)
			code = exitFailed
		}
	}
	if code == exitOK {
		e.ui.Say("local cloud (%s profile) ready; point AWS SDKs at it with:", s.Profile)
		fmt.Fprint(e.ui.Out(), env)
		e.ui.Say("stats: %s/_localcloud/stats; stop with Ctrl-C", cloud.URL())
		<-ctx.Done()
	}
	if err := cloud.Close(); err != nil {
		e.ui.Error("stop local cloud: %v", err)
		return exitFailed
	}
	return code
}

func settingsHelp() string {
	var b strings.Builder
	for _, n := range localcloud.SettingNames() {
		fmt.Fprintf(&b, "  %-12s %s [%s]\n", n, localcloud.SettingDoc(n), localcloud.EnvName(n))
	}
	return strings.TrimRight(b.String(), "\n")
}

// runWithCloud runs a command with the cloud's AWS_* variables added to the
// environment and returns its exit code. The command runs in its own
// process group and gets exactly one SIGINT per interrupt this process
// receives, so a single Ctrl-C means one interrupt to it too.
func runWithCloud(ctx context.Context, e *env, cloud *localcloud.Cloud, argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), cloud.Env()...)
	cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		e.ui.Error("run %s: %v", argv[0], err)
		return exitFailed
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	err := waitForwardingInterrupts(ctx, e, cmd, done)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		e.ui.Error("run %s: %v", argv[0], err)
		return exitFailed
	}
}

func waitForwardingInterrupts(ctx context.Context, e *env, cmd *exec.Cmd, done <-chan error) error {
	interrupted := ctx.Done()
	for {
		select {
		case err := <-done:
			return err
		case <-interrupted:
			interrupted = nil
			_ = cmd.Process.Signal(os.Interrupt)
		case <-e.interrupts:
			_ = cmd.Process.Signal(os.Interrupt)
		}
	}
}

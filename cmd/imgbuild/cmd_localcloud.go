package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/imgbuild/imgbuild/internal/guest"
	"github.com/imgbuild/imgbuild/internal/localcloud"
)

var localcloudCommand = command{
	synopsis: "Run a local EC2 endpoint (moto + realism layer + Linux guests) for tests and demos",
	usage: "localcloud [--prepare] [--profile instant|realistic|hostile] [--addr 127.0.0.1:PORT] [--env-file FILE] [--set name=value]... [-- COMMAND [ARGS...]]\n" +
		"       imgbuild localcloud publish-image --like NAME --name NAME [--created RFC3339] [--regions r1,r2] [--endpoint URL]",
	run: runLocalcloud,
}

// localcloudOptions are the flags of `imgbuild localcloud`.
type localcloudOptions struct {
	profile string
	addr    string
	envFile string
	prepare bool
	sets    stringList
	command []string // run this with the cloud's environment, then stop
}

func runLocalcloud(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "publish-image" {
		return runPublishImage(ctx, e, args[1:])
	}
	var o localcloudOptions
	fs := newFlagSet(e, "localcloud")
	fs.StringVar(&o.profile, "profile", localcloud.Realistic, "instant, realistic or hostile")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback `host:port` to listen on (port 0: a free port)")
	fs.StringVar(&o.envFile, "env-file", "", "write the AWS_* variables to `FILE` (mode 0600, for: set -a; . FILE) once the cloud answers; removed when it stops")
	fs.BoolVar(&o.prepare, "prepare", false, "make the guests' base system if it is not cached yet (debootstrap; minutes, once), then exit")
	fs.Var(&o.sets, "set", "override one setting, `name=value` (repeatable); settings:\n"+settingsHelp())
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	o.command = fs.Args()
	if o.prepare {
		return prepareGuests(ctx, e)
	}
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

// serveLocalcloud runs the cloud until ctx ends (or, with a command, until
// the command exits). The env file exists exactly while the cloud serves:
// it is written once the cloud answers, before the command runs, and
// removed on every way out, before the cloud stops, so it never names a
// stopped endpoint.
func serveLocalcloud(ctx context.Context, e *env, o localcloudOptions, s localcloud.Settings) (code int) {
	log, closeLog := newLogger(e)
	defer closeLog()
	cloud, err := localcloud.Start(ctx, localcloud.Options{Settings: s, Addr: o.addr, Logger: log.Named("localcloud"),
		Progress: func(line string) { e.ui.Say("local cloud: %s", line) }})
	if err != nil {
		e.ui.Error("start local cloud: %v", err)
		return exitFailed
	}
	defer func() {
		if err := cloud.Close(); err != nil {
			e.ui.Error("stop local cloud: %v", err)
			code = exitFailed
		}
	}()
	env := strings.Join(cloud.Env(), "\n") + "\n"
	if o.envFile != "" {
		written, err := writeEnvFile(o.envFile, env)
		if err != nil {
			e.ui.Error("write env file: %v", err)
			return exitFailed
		}
		defer removeEnvFile(e, o.envFile, written)
	}
	if argv := o.command; len(argv) > 0 {
		return runWithCloud(ctx, e, cloud, argv)
	}
	e.ui.Say("local cloud (%s profile) ready; point AWS SDKs at it with:", s.Profile)
	fmt.Fprint(e.ui.Out(), env)
	e.ui.Say("stats: %s/_localcloud/stats; stop with Ctrl-C", cloud.URL())
	<-ctx.Done()
	return exitOK
}

// writeEnvFile writes env to a temporary file next to path and renames it
// over path, so that a script waiting for the file sees none or all of it,
// never a part. The mode is 0600: the credentials are fake, but the file
// is a pattern users copy for real ones. It returns the file's identity.
func writeEnvFile(path, env string) (_ os.FileInfo, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.WriteString(env); err != nil {
		return nil, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		return nil, err
	}
	written, err := tmp.Stat()
	if err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return written, os.Rename(tmp.Name(), path)
}

// removeEnvFile removes the env file this process wrote, unless the path
// now holds another file (another local cloud's, given the same path).
func removeEnvFile(e *env, path string, written os.FileInfo) {
	fi, err := os.Stat(path)
	if err != nil || !os.SameFile(fi, written) {
		return
	}
	if err := os.Remove(path); err != nil {
		e.ui.Error("remove env file: %v", err)
	}
}

// prepareGuests makes the guests' base system ahead of the first cloud
// (make test runs it, so that no test waits minutes for it).
func prepareGuests(ctx context.Context, e *env) int {
	root, err := guest.EnsureBase(ctx, guest.BaseOptions{Progress: func(line string) { e.ui.Say("local cloud: %s", line) }})
	if err != nil {
		e.ui.Error("prepare the local cloud's guests: %v", err)
		return exitFailed
	}
	e.ui.Say("local cloud: guest base system ready (%s)", root)
	return exitOK
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

// runPublishImage asks a running local cloud (AWS_ENDPOINT_URL, or
// --endpoint) to publish a newer build of a public image in every region,
// as AWS does on patch Tuesday, and prints the new image's ID per region.
func runPublishImage(ctx context.Context, e *env, args []string) int {
	var req localcloud.PublishRequest
	var regions, endpoint string
	fs := newFlagSet(e, "localcloud")
	fs.StringVar(&req.Like, "like", "", "the `NAME` (or name prefix: the most recent match) of the public image the new one is a newer build of")
	fs.StringVar(&req.Name, "name", "", "the new image's `NAME`")
	fs.StringVar(&req.Created, "created", "", "its creation date (`RFC3339`; default now)")
	fs.StringVar(&regions, "regions", "", "comma-separated `regions` (default every region)")
	fs.StringVar(&endpoint, "endpoint", e.getenv("AWS_ENDPOINT_URL"), "the local cloud's `URL` (default $AWS_ENDPOINT_URL)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case fs.NArg() > 0:
		e.ui.Error("localcloud publish-image: unexpected argument %q", fs.Arg(0))
		return exitUsage
	case req.Like == "" || req.Name == "":
		e.ui.Error("localcloud publish-image: --like and --name are required")
		return exitUsage
	case endpoint == "":
		e.ui.Error("localcloud publish-image: no local cloud: set AWS_ENDPOINT_URL (from the env file of imgbuild localcloud) or --endpoint")
		return exitUsage
	}
	if regions != "" {
		req.Regions = strings.Split(regions, ",")
	}
	res, err := localcloud.PublishImage(ctx, endpoint, req)
	if err != nil {
		e.ui.Error("%v", err)
		return exitCodeFor(err)
	}
	names := make([]string, 0, len(res.Images))
	for r := range res.Images {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		fmt.Fprintf(e.ui.Out(), "%s\t%s\n", r, res.Images[r])
	}
	return exitOK
}

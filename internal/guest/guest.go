package guest

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

var (
	//go:embed hostinit.sh
	hostInit string
	//go:embed guestinit.sh
	guestInit string
	//go:embed bin
	tools embed.FS
)

// Exit statuses of the guest's init.
const (
	exitReboot   = 10
	exitPowerOff = 11
)

// Spec describes one guest.
type Spec struct {
	// Dir is the instance's directory: its disk (upper and work
	// directories), mount point and run directory. Start creates it.
	Dir string
	// Lowers are the overlay's lower directories, topmost first: the
	// image's layers, then the base system.
	Lowers []string
	// InstanceID, IP and Hostname identify the instance; sshd listens on
	// IP port 22.
	InstanceID, IP, Hostname string
	// AuthorizedKeys are added to the default users' authorized_keys at
	// first boot; the keys already there (the image's) stay, as with
	// cloud-init.
	AuthorizedKeys []byte
	// FirstBoot is the script run as root once per instance (compiled
	// user data).
	FirstBoot string
	// Volumes are extra disks the guest sees mounted (volumes.go).
	Volumes []Volume
	// Logger receives boot and stop events; nil discards them.
	Logger hclog.Logger
}

// Guest is one running (or stopped) guest. Its disk survives Stop.
type Guest struct {
	spec Spec
	log  hclog.Logger

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool // Stop was asked for: do not boot again on exit
	removed bool // Remove was called: never boot again
}

// New prepares a guest's directories; Boot starts it.
func New(spec Spec) (*Guest, error) {
	if err := Supported(); err != nil {
		return nil, err
	}
	if spec.Logger == nil {
		spec.Logger = hclog.NewNullLogger()
	}
	if strings.ContainsAny(strings.Join(spec.Lowers, ""), ",:") {
		return nil, fmt.Errorf("guest %s: layer paths must not contain ',' or ':' (%v)", spec.InstanceID, spec.Lowers)
	}
	for _, d := range []string{"upper", "work", "root", "run/bin"} {
		if err := os.MkdirAll(filepath.Join(spec.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("create guest directory: %w", err)
		}
	}
	if err := prepareVolumes(spec.InstanceID, spec.Volumes); err != nil {
		return nil, err
	}
	g := &Guest{spec: spec, log: spec.Logger}
	if err := g.writeRun(); err != nil {
		return nil, err
	}
	return g, nil
}

// writeRun fills the run directory the guest sees as /run/imgbuild.
func (g *Guest) writeRun() error {
	run := filepath.Join(g.spec.Dir, "run")
	meta := fmt.Sprintf("INSTANCE_ID=%s\nIP=%s\nHOSTNAME=%s\n", shellWord(g.spec.InstanceID), shellWord(g.spec.IP), shellWord(g.spec.Hostname))
	files := map[string]struct {
		body string
		mode os.FileMode
	}{
		"init":            {guestInit, 0o755},
		"meta":            {meta, 0o644},
		"authorized_keys": {string(g.spec.AuthorizedKeys), 0o644},
		"user-data.sh":    {g.spec.FirstBoot, 0o700},
		"volumes":         {volumesFile(g.spec.Volumes), 0o644},
	}
	for name, f := range files {
		if err := os.WriteFile(filepath.Join(run, name), []byte(f.body), f.mode); err != nil {
			return fmt.Errorf("write guest %s: %w", name, err)
		}
	}
	reboot, err := tools.ReadFile("bin/reboot")
	if err != nil {
		return err
	}
	status, err := tools.ReadFile("bin/cloud-init")
	if err != nil {
		return err
	}
	for name, body := range map[string][]byte{"reboot": reboot, "poweroff": reboot, "halt": reboot, "shutdown": reboot, "cloud-init": status} {
		if err := os.WriteFile(filepath.Join(run, "bin", name), body, 0o755); err != nil {
			return fmt.Errorf("write guest tool %s: %w", name, err)
		}
	}
	return nil
}

// shellWord quotes s for sh.
func shellWord(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Boot starts the guest and returns once its sshd has been started (or
// the boot failed).
func (g *Guest) Boot(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.removed {
		return fmt.Errorf("guest %s: its disk was removed (terminated)", g.spec.InstanceID)
	}
	g.stopped = false
	if g.cmd != nil {
		return nil
	}
	return g.bootLocked(ctx)
}

func (g *Guest) bootLocked(ctx context.Context) error {
	run := filepath.Join(g.spec.Dir, "run")
	_ = os.Remove(filepath.Join(run, "booted"))
	console, err := os.OpenFile(filepath.Join(run, "console.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open guest console log: %w", err)
	}
	defer console.Close()
	cmd := exec.Command("/bin/sh", "-c", hostInit, "hostinit", g.spec.Dir, strings.Join(g.spec.Lowers, ":"), g.spec.Hostname)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = namespaces()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start guest %s: %w", g.spec.InstanceID, err)
	}
	exited := make(chan struct{})
	g.cmd, g.exited = cmd, exited
	go g.watch(cmd, exited)
	g.log.Debug("guest booting", "instance", g.spec.InstanceID, "pid", cmd.Process.Pid)
	return g.waitBooted(ctx, exited)
}

// waitBooted waits for the guest's init to say it started sshd, then for
// sshd to accept connections.
func (g *Guest) waitBooted(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	booted := filepath.Join(g.spec.Dir, "run", "booted")
	addr := net.JoinHostPort(g.spec.IP, "22")
	for {
		if _, err := os.Stat(booted); err == nil {
			if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
				c.Close()
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("guest %s stopped while booting; its console says:\n%s", g.spec.InstanceID, g.ConsoleTail(12))
		case <-ctx.Done():
			return fmt.Errorf("guest %s did not start sshd on %s: %w; its console says:\n%s", g.spec.InstanceID, addr, ctx.Err(), g.ConsoleTail(12))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// watch waits for the guest's init to end and boots the guest again after
// a reboot from inside.
func (g *Guest) watch(cmd *exec.Cmd, exited chan struct{}) {
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	g.mu.Lock()
	close(exited)
	g.cmd = nil
	stopped := g.stopped
	g.mu.Unlock()
	g.log.Debug("guest init exited", "instance", g.spec.InstanceID, "code", code, "error", err)
	switch {
	case stopped:
	case code == exitReboot:
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.stopped || g.cmd != nil {
			return
		}
		if err := g.bootLocked(context.Background()); err != nil {
			g.log.Error("guest did not come back after a reboot", "instance", g.spec.InstanceID, "error", err)
		}
	case code == exitPowerOff:
		g.log.Info("guest powered itself off", "instance", g.spec.InstanceID)
	default:
		g.log.Warn("guest stopped by itself", "instance", g.spec.InstanceID, "code", code, "console", g.ConsoleTail(5))
	}
}

// Stop ends every process of the guest; with its last process the guest's
// mounts go. The disk stays for the next Boot.
func (g *Guest) Stop() { g.stop(false) }

func (g *Guest) stop(remove bool) {
	g.mu.Lock()
	g.stopped = true
	g.removed = g.removed || remove
	cmd, exited := g.cmd, g.exited
	g.mu.Unlock()
	if cmd == nil {
		return
	}
	// SIGKILL to a PID namespace's init ends every process in it.
	_ = cmd.Process.Kill()
	<-exited
}

// Reboot stops the guest and boots it again (RebootInstances).
func (g *Guest) Reboot(ctx context.Context) error {
	g.Stop()
	return g.Boot(ctx)
}

// Remove stops the guest for good and deletes its directory (terminate).
func (g *Guest) Remove() error {
	g.stop(true)
	if err := os.RemoveAll(g.spec.Dir); err != nil {
		return fmt.Errorf("remove the disk of %s: %w", g.spec.InstanceID, err)
	}
	return nil
}

// PID returns the host PID of the guest's init, or 0 when it is stopped.
func (g *Guest) PID() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// Upper returns the directory holding what the guest changed on its disk.
func (g *Guest) Upper() string { return filepath.Join(g.spec.Dir, "upper") }

// Running reports whether the guest's processes run.
func (g *Guest) Running() bool { return g.PID() != 0 }

// ConsoleTail returns the last n lines of the guest's console log.
func (g *Guest) ConsoleTail(n int) string {
	b, err := os.ReadFile(filepath.Join(g.spec.Dir, "run", "console.log"))
	if err != nil {
		return "(no console output)"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errNotSupported is wrapped by Supported's answer.
var errNotSupported = errors.New("the local cloud's Linux guests are not available")

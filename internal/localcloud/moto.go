package localcloud

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ErrMotoNotInstalled is returned (wrapped) when moto_server is missing.
var ErrMotoNotInstalled = errors.New("moto_server is not installed; install it with: pip install 'moto[server]'")

// motoProcess is a moto_server listening on a free loopback port.
type motoProcess struct {
	url     *url.URL
	cmd     *exec.Cmd
	done    chan struct{}
	overlay string // the catalogue's overlay of the moto package ("" for none)
	out     *switchWriter
}

// startMoto starts the local cloud's moto_server, whose AMI catalogue has
// the images of catalogue.go, and waits until it answers.
func startMoto(ctx context.Context, log hclog.Logger) (*motoProcess, error) {
	return launchMoto(ctx, log, true)
}

// errMotoExited is returned (wrapped) when moto_server exits before it
// answers: most often because the free port it was given was taken in the
// meantime (busy machines open many connections), so it is tried again.
var errMotoExited = errors.New("moto_server exited before answering (run with IMGBUILD_LOG=trace to see its output)")

// launchMoto starts moto_server, with the catalogue or as it is, and waits
// until it answers, on a new port if it exits at once (up to three times).
func launchMoto(ctx context.Context, log hclog.Logger, withCatalogue bool) (*motoProcess, error) {
	for attempt := 1; ; attempt++ {
		m, err := launchMotoOnce(ctx, log, withCatalogue)
		if err == nil || !errors.Is(err, errMotoExited) || attempt == 3 {
			return m, err
		}
		log.Warn("moto_server exited at start; trying another port", "attempt", attempt)
	}
}

func launchMotoOnce(ctx context.Context, log hclog.Logger, withCatalogue bool) (*motoProcess, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("find moto_server: %w", ErrMotoNotInstalled)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	m := &motoProcess{url: &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, cmd: cmd, done: make(chan struct{})}
	if withCatalogue {
		c, err := catalogueFor(bin)
		if err != nil {
			return nil, err
		}
		if m.overlay, err = os.MkdirTemp("", "imgbuild-moto-"); err != nil {
			return nil, err
		}
		if err := c.writeOverlay(m.overlay); err != nil {
			m.removeOverlay()
			return nil, fmt.Errorf("add images to moto's AMI catalogue: %w", err)
		}
		path := m.overlay
		if old := os.Getenv("PYTHONPATH"); old != "" {
			path += string(os.PathListSeparator) + old
		}
		cmd.Env = append(os.Environ(), "PYTHONPATH="+path)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	m.out = &switchWriter{w: motoLogWriter(log)}
	cmd.Stdout, cmd.Stderr = m.out, m.out
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		m.removeOverlay()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	go func() {
		defer close(m.done)
		_ = cmd.Wait()
	}()
	if err := m.waitReady(ctx); err != nil {
		_ = m.stop()
		return nil, err
	}
	log.Debug("moto_server started", "url", m.url.String(), "pid", cmd.Process.Pid, "overlay", m.overlay)
	return m, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for moto_server: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (m *motoProcess) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(m.url.String() + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-m.done:
			return errMotoExited
		case <-ctx.Done():
			return fmt.Errorf("wait for moto_server on %s: %w", m.url.Host, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (m *motoProcess) pid() int { return m.cmd.Process.Pid }

// stop terminates moto_server's process group, killing it if it lingers,
// and removes the catalogue's overlay.
func (m *motoProcess) stop() error {
	defer m.removeOverlay()
	pid := m.cmd.Process.Pid
	select {
	case <-m.done:
		return nil
	default:
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-m.done
	}
	// Reap helpers that moto's process group may still hold.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return nil
}

// removeOverlay removes the overlay: its links, not what they point to.
func (m *motoProcess) removeOverlay() {
	if m.overlay != "" {
		_ = os.RemoveAll(m.overlay)
	}
}

// Moto is a plain moto_server with no realism layer in front of it, for
// tests that prove imgbuild works against the emulator as it is.
type Moto struct{ p *motoProcess }

// StartMoto starts a plain moto_server on a free loopback port: moto's own
// AMI catalogue, without the local cloud's images.
func StartMoto(ctx context.Context, log hclog.Logger) (*Moto, error) {
	p, err := launchMoto(ctx, log, false)
	if err != nil {
		return nil, err
	}
	return &Moto{p: p}, nil
}

// URL returns moto_server's endpoint URL.
func (m *Moto) URL() string { return m.p.url.String() }

// PID returns moto_server's process ID.
func (m *Moto) PID() int { return m.p.pid() }

// Close stops moto_server.
func (m *Moto) Close() error { return m.p.stop() }

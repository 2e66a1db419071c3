// Package sshd starts real OpenSSH servers on loopback for tests and for the
// local cloud: each server has its own generated host key, listen address,
// authorized keys and a session wrapper that runs every command, shell and
// SFTP session as an unprivileged account in the server's home directory.
//
// When the calling process runs as root, the server accepts the login names
// in [LoginNames] (the default users of common AMIs plus root) and the
// wrapper drops root logins to [Config.RunAs]; [EnsureAccounts] creates the
// missing login accounts with useradd. Without root, sshd can only log in the
// user running it, so the server accepts that user's name only and must
// listen on a port above 1023.
package sshd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// ErrNotInstalled is returned (wrapped) when no sshd binary is found.
var ErrNotInstalled = errors.New("OpenSSH server (sshd) is not installed; install it with: apt-get install -y openssh-server")

// LoginNames are the login names a server started as root accepts.
var LoginNames = []string{"ec2-user", "ubuntu", "admin", "root"}

// Config says how to start one server.
type Config struct {
	// Addr is the host:port to listen on, e.g. "127.0.1.5:22".
	Addr string
	// AuthorizedKeys are the public keys allowed to log in.
	AuthorizedKeys []ssh.PublicKey
	// Home is the directory sessions start in; empty means a fresh
	// directory inside the server's temporary directory.
	Home string
	// RunAs is the unprivileged account root logins run as (default
	// "ec2-user"); only used when the server runs as root.
	RunAs string
	// Logger receives sshd's own log at debug level; nil discards it.
	Logger hclog.Logger
}

// Server is one running sshd process.
type Server struct {
	addr    string
	dir     string
	home    string
	hostKey ssh.PublicKey
	cmd     *exec.Cmd
	done    chan struct{}
	log     hclog.Logger
}

// Path returns the sshd binary to run, or an error wrapping ErrNotInstalled.
func Path() (string, error) {
	if p, err := exec.LookPath("sshd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("find sshd: %w", ErrNotInstalled)
}

// Start starts sshd as configured and returns once it accepts TCP
// connections. The caller must call Stop.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	bin, err := Path()
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.RunAs == "" {
		cfg.RunAs = "ec2-user"
	}
	dir, err := os.MkdirTemp("", "imgbuild-sshd-")
	if err != nil {
		return nil, fmt.Errorf("create sshd directory: %w", err)
	}
	s := &Server{addr: cfg.Addr, dir: dir, home: cfg.Home, done: make(chan struct{}), log: cfg.Logger}
	if err := s.prepare(bin, cfg); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.run(ctx, bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// prepare writes the host key, authorized keys, session wrapper and config.
func (s *Server) prepare(bin string, cfg Config) error {
	// Unprivileged login accounts must traverse the directory to reach the
	// wrapper and the home directory inside it.
	if err := os.Chmod(s.dir, 0o711); err != nil {
		return fmt.Errorf("open up sshd directory: %w", err)
	}
	if s.home == "" {
		s.home = filepath.Join(s.dir, "home")
	}
	if err := makeHome(s.home); err != nil {
		return err
	}
	if err := s.writeHostKey(); err != nil {
		return err
	}
	var keys strings.Builder
	for _, k := range cfg.AuthorizedKeys {
		keys.Write(ssh.MarshalAuthorizedKey(k))
	}
	if err := os.WriteFile(filepath.Join(s.dir, "authorized_keys"), []byte(keys.String()), 0o644); err != nil {
		return fmt.Errorf("write authorized keys: %w", err)
	}
	sftp := sftpServerPath(bin)
	wrapper, err := sessionScript(s.home, cfg.RunAs, sftp)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "session"), []byte(wrapper), 0o755); err != nil {
		return fmt.Errorf("write session wrapper: %w", err)
	}
	conf := s.config(sftp)
	if err := os.WriteFile(filepath.Join(s.dir, "sshd_config"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("write sshd_config: %w", err)
	}
	if os.Geteuid() == 0 {
		// Debian's sshd refuses to start without its privilege separation
		// directory, which is normally created by the service unit.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return fmt.Errorf("create /run/sshd: %w", err)
		}
	}
	return nil
}

// makeHome creates the session home directory, writable by every login
// account (they are distinct unprivileged users sharing one instance).
func makeHome(home string) error {
	if err := os.MkdirAll(home, 0o777); err != nil {
		return fmt.Errorf("create home %s: %w", home, err)
	}
	if err := os.Chmod(home, 0o777); err != nil {
		return fmt.Errorf("open up home %s: %w", home, err)
	}
	return nil
}

func (s *Server) writeHostKey() error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate host key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "imgbuild sshd host key")
	if err != nil {
		return fmt.Errorf("encode host key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "host_ed25519_key"), pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("write host key: %w", err)
	}
	s.hostKey, err = ssh.NewPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode host public key: %w", err)
	}
	return nil
}

func (s *Server) config(sftp string) string {
	users := LoginNames
	if os.Geteuid() != 0 {
		users = []string{currentUser()}
	}
	lines := []string{
		"ListenAddress " + s.addr,
		"HostKey " + filepath.Join(s.dir, "host_ed25519_key"),
		"PidFile none",
		"AuthorizedKeysFile " + filepath.Join(s.dir, "authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"PermitRootLogin prohibit-password",
		"AllowUsers " + strings.Join(users, " "),
		"ForceCommand " + filepath.Join(s.dir, "session"),
		"Subsystem sftp " + sftp,
		"PrintMotd no",
		"X11Forwarding no",
		"MaxStartups 100",
		"LogLevel VERBOSE",
	}
	return strings.Join(lines, "\n") + "\n"
}

func (s *Server) run(ctx context.Context, bin string) error {
	cmd := exec.Command(bin, "-D", "-e", "-f", filepath.Join(s.dir, "sshd_config"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout = s.log.StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug})
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start sshd on %s: %w", s.addr, err)
	}
	s.cmd = cmd
	go func() {
		defer close(s.done)
		if err := cmd.Wait(); err != nil {
			s.log.Debug("sshd exited", "addr", s.addr, "pid", cmd.Process.Pid, "error", err)
		}
	}()
	if err := s.waitListening(ctx); err != nil {
		s.kill()
		return err
	}
	s.log.Debug("sshd started", "addr", s.addr, "pid", cmd.Process.Pid, "dir", s.dir)
	return nil
}

func (s *Server) waitListening(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("sshd on %s exited before accepting connections (run with IMGBUILD_LOG=debug to see its log)", s.addr)
		case <-ctx.Done():
			return fmt.Errorf("wait for sshd on %s: %w", s.addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// PID returns the process ID of the listening sshd.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Dir returns the server's temporary directory (removed by Stop).
func (s *Server) Dir() string { return s.dir }

// Home returns the directory sessions start in.
func (s *Server) Home() string { return s.home }

// HostKey returns the server's generated host public key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey }

// Stop kills the server and every session it started, waits for it to exit
// and removes its temporary directory. It is safe to call more than once.
func (s *Server) Stop() error {
	s.kill()
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("remove sshd directory %s: %w", s.dir, err)
	}
	return nil
}

// kill stops the listener first so it accepts nothing new, then kills the
// sessions (sshd puts each connection in its own session, outside the
// listener's process group), then the listener, and waits for it.
func (s *Server) kill() {
	pid := s.cmd.Process.Pid
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	sessions := descendants(pid)
	for _, d := range sessions {
		_ = syscall.Kill(d, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-s.done
	waitGone(sessions, 2*time.Second)
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

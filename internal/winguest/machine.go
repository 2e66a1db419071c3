package winguest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/glob"
	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/wsman"
)

// Default WinRM ports.
const (
	DefaultHTTPPort  = 5985
	DefaultHTTPSPort = 5986
)

// settle is how long after answering a restart or poweroff command the
// machine goes down, so the client receives the command's exit code first.
const settle = 250 * time.Millisecond

// ErrStopped is returned by Boot when the machine is stopped while it
// boots.
var ErrStopped = errors.New("windows guest stopped")

// Options describe one simulated Windows machine.
type Options struct {
	// Disk is the instance's writable directory: every file written lands
	// here, as <Disk>/<drive letter>/<path>.
	Disk string
	// Lowers are read-only image layer directories, top first: a path not
	// in Disk is looked up in each in order.
	Lowers []string
	// InstanceID, Hostname and IP identify the machine; WinRM listens on
	// IP.
	InstanceID, Hostname, IP string
	// Log is the guest log (JSON lines).
	Log string
	// Accounts maps user names (compared case-insensitively) to
	// passwords. The caller sets Administrator's.
	Accounts map[string]string
	// UserData is the instance's user data, already base64-decoded.
	UserData []byte
	// FailGlob (github.com/gobwas/glob syntax): a command line, decoded
	// script or script file content matching it fails with FailCode.
	FailGlob string
	// FailCode is the exit code of failing commands; default 1.
	FailCode int
	// BootDelay is how long Boot takes before WinRM answers; RestartDelay
	// how long WinRM is down during a restart; SysprepDelay how long after
	// a Sysprep command with shutdown the machine stops.
	BootDelay, RestartDelay, SysprepDelay time.Duration
	// OnStop is called when the machine stops by itself ("sysprep" or
	// "poweroff"), from a goroutine of the machine; it may call Stop.
	OnStop func(reason string)
	// Logger receives debug logs; nil discards them.
	Logger hclog.Logger
	// HTTPPort and HTTPSPort are the WinRM ports; default 5985 and 5986.
	HTTPPort, HTTPSPort int
}

// Machine is a simulated Windows machine: a WS-Management endpoint whose
// commands it answers from their shape, a disk, accounts and a log.
type Machine struct {
	opts     Options
	log      hclog.Logger
	disk     *disk
	glog     *guestLog
	fail     *glob.Pattern // nil without FailGlob
	userData userData

	mu       sync.Mutex
	accounts map[string]string // lower-case user name -> password
	cert     *tls.Certificate  // made at the first boot
	firstRun bool              // the non-persistent user data has run
	cycle    *powerCycle       // nil while stopped
}

// powerCycle is one run of the machine between Boot and Stop (restarts
// included). Its goroutines (restart, self stop) end when it is cancelled.
type powerCycle struct {
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	server  *wsman.Server // nil while WinRM is down
	ready   bool          // WinRM answers and the boot is done
	pending bool          // a restart, poweroff or sysprep is under way
}

// New makes a stopped machine; Boot starts it.
func New(opts Options) (*Machine, error) {
	if opts.Disk == "" || opts.IP == "" || opts.Log == "" {
		return nil, errors.New("windows guest: Disk, IP and Log are required")
	}
	if opts.FailCode == 0 {
		opts.FailCode = 1
	}
	if opts.HTTPPort == 0 {
		opts.HTTPPort = DefaultHTTPPort
	}
	if opts.HTTPSPort == 0 {
		opts.HTTPSPort = DefaultHTTPSPort
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	m := &Machine{
		opts:     opts,
		log:      opts.Logger,
		disk:     &disk{upper: opts.Disk, lowers: opts.Lowers},
		glog:     &guestLog{path: opts.Log},
		userData: parseUserData(opts.UserData),
		accounts: map[string]string{},
	}
	if opts.FailGlob != "" {
		g, err := glob.Compile(opts.FailGlob)
		if err != nil {
			return nil, fmt.Errorf("windows guest: fail glob %q: %w", opts.FailGlob, err)
		}
		m.fail = g
	}
	for name, pw := range opts.Accounts {
		m.accounts[strings.ToLower(userName(name))] = pw
	}
	return m, nil
}

// LogPath is the guest log's path.
func (m *Machine) LogPath() string { return m.opts.Log }

// Ready reports whether the machine has booted and WinRM answers.
func (m *Machine) Ready() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cycle != nil && m.cycle.ready
}

// Password returns the password of user (compared case-insensitively;
// a DOMAIN\ prefix is ignored).
func (m *Machine) Password(user string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pw, ok := m.accounts[strings.ToLower(userName(user))]
	return pw, ok
}

// setPassword sets user's password; add creates the user when missing.
func (m *Machine) setPassword(user, password string, add bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := strings.ToLower(userName(user))
	if _, ok := m.accounts[key]; !ok && !add {
		m.log.Debug("net user for a missing user ignored", "user", user)
		return
	}
	m.accounts[key] = password
}

// Boot starts the machine: after BootDelay it runs the user data (at the
// first boot, or at every boot when persisted) and WinRM starts answering
// on IP:HTTPPort (HTTP) and IP:HTTPSPort (HTTPS, self-signed). It returns
// once WinRM listens, ErrStopped when Stop interrupts it, or ctx's error
// or a failure to listen (the machine is then stopped).
func (m *Machine) Boot(ctx context.Context) error {
	m.mu.Lock()
	if m.cycle != nil {
		m.mu.Unlock()
		return fmt.Errorf("windows guest %s: already running", m.opts.InstanceID)
	}
	cctx, cancel := context.WithCancel(context.Background())
	pc := &powerCycle{ctx: cctx, cancel: cancel}
	m.cycle = pc
	m.mu.Unlock()
	err := sleep(ctx, pc.ctx, m.opts.BootDelay)
	if err == nil {
		err = m.startUp(pc)
	}
	if err != nil && !errors.Is(err, ErrStopped) {
		// Given up, or no WinRM: the machine is stopped, Boot may be tried again.
		m.end(pc)
		pc.wg.Wait()
	}
	if err != nil {
		return fmt.Errorf("boot windows guest %s: %w", m.opts.InstanceID, err)
	}
	return nil
}

// startUp runs the boot sequence of pc and starts WinRM.
func (m *Machine) startUp(pc *powerCycle) error {
	events := []Event{newEvent(KindBoot)}
	m.mu.Lock()
	first := !m.firstRun
	m.firstRun = true
	m.mu.Unlock()
	if first || m.userData.persist {
		events = append(events, m.runUserData()...)
	}
	m.record(events...)
	cert, err := m.certificate()
	if err != nil {
		return err
	}
	srv := wsman.NewServer(wsman.Options{Exec: m, Password: m.Password, AuthFailed: m.authFailed, Logger: m.log.Named("wsman")})
	httpAddr := net.JoinHostPort(m.opts.IP, strconv.Itoa(m.opts.HTTPPort))
	httpsAddr := net.JoinHostPort(m.opts.IP, strconv.Itoa(m.opts.HTTPSPort))
	if err := srv.Listen(httpAddr, httpsAddr, cert); err != nil {
		srv.Close()
		return fmt.Errorf("windows guest %s: start WinRM: %w", m.opts.InstanceID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if pc.ctx.Err() != nil { // stopped meanwhile
		srv.Close()
		return ErrStopped
	}
	pc.server, pc.ready, pc.pending = srv, true, false
	m.log.Debug("windows guest answers WinRM", "instance", m.opts.InstanceID, "http", httpAddr, "https", httpsAddr)
	return nil
}

// certificate returns the machine's self-signed HTTPS certificate.
func (m *Machine) certificate() (tls.Certificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cert == nil {
		hosts := []string{m.opts.IP}
		if m.opts.Hostname != "" {
			hosts = append(hosts, m.opts.Hostname)
		}
		cert, err := wsman.SelfSigned(hosts...)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("windows guest %s: make certificate: %w", m.opts.InstanceID, err)
		}
		m.cert = &cert
	}
	return *m.cert, nil
}

// Stop stops the machine: WinRM stops answering, connections drop,
// commands are cancelled, a boot or restart under way ends. The disk and
// accounts stay; Boot starts the machine again. Stopping a stopped
// machine does nothing.
func (m *Machine) Stop() error {
	m.mu.Lock()
	pc := m.cycle
	m.mu.Unlock()
	if pc != nil && m.end(pc) {
		pc.wg.Wait()
	}
	return nil
}

// end stops pc if it is still the machine's power cycle: its goroutines
// are cancelled (end does not wait for them) and WinRM closed. It reports
// whether it stopped pc.
func (m *Machine) end(pc *powerCycle) bool {
	m.mu.Lock()
	if m.cycle != pc {
		m.mu.Unlock()
		return false
	}
	m.cycle = nil
	pc.cancel()
	srv := pc.server
	pc.server, pc.ready = nil, false
	m.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	return true
}

// record writes events to the guest log; a failure is logged.
func (m *Machine) record(events ...Event) {
	if err := m.glog.write(events...); err != nil {
		m.log.Warn("cannot write the guest log", "path", m.opts.Log, "error", err)
	}
}

// sleep waits d, or until ctx or cycle is done.
func sleep(ctx, cycle context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-cycle.Done():
		return ErrStopped
	}
}

// authFailed records a WinRM logon with credentials that match no
// account.
func (m *Machine) authFailed(user string) {
	e := newEvent(KindAuthFailed)
	e.User = user
	m.record(e)
}

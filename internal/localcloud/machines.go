package localcloud

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand"
	"net"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/sshd"
)

// machine is the loopback host of one instance.
type machine struct {
	ip     string
	addr   string // where its sshd listens (ip:22 as root)
	server *sshd.Server
}

// machines gives instances loopback addresses and runs their sshd.
type machines struct {
	mu     sync.Mutex
	log    hclog.Logger
	ssh    bool
	keys   map[string]ssh.PublicKey // region/keyName
	byID   map[string]*machine      // region/instanceID
	closed bool
}

func newMachines(log hclog.Logger, enableSSH bool) *machines {
	return &machines{log: log, ssh: enableSSH, keys: map[string]ssh.PublicKey{}, byID: map[string]*machine{}}
}

// addPrivateKey records the public half of a CreateKeyPair key.
func (m *machines) addPrivateKey(region, name, pemKey string) error {
	signer, err := ssh.ParsePrivateKey([]byte(pemKey))
	if err != nil {
		return fmt.Errorf("parse key material of key pair %s: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[region+"/"+name] = signer.PublicKey()
	return nil
}

// addPublicKey records an ImportKeyPair key (base64 of an OpenSSH public key).
func (m *machines) addPublicKey(region, name, material string) error {
	raw, err := base64.StdEncoding.DecodeString(material)
	if err != nil {
		raw = []byte(material)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(raw)
	if err != nil {
		return fmt.Errorf("parse public key material of key pair %s: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[region+"/"+name] = pub
	return nil
}

// ip returns the loopback address of an instance, allocating one.
func (m *machines) ip(region, id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mc := m.byID[region+"/"+id]; mc != nil {
		return mc.ip
	}
	mc := &machine{ip: allocateIP(m.ssh && os.Geteuid() == 0)}
	m.byID[region+"/"+id] = mc
	return mc.ip
}

// ipCounter spreads instance addresses over 127.0.1.1-127.0.254.254,
// process-wide and from a random start, so that clouds running at the same
// time (tests in parallel, a developer's own cloud) rarely collide.
var ipCounter = struct {
	sync.Mutex
	n int
}{n: rand.Intn(ipSpace)}

const ipSpace = 254 * 254

// allocateIP returns the next loopback address; with probe22 it skips
// addresses whose port 22 is taken.
func allocateIP(probe22 bool) string {
	ipCounter.Lock()
	defer ipCounter.Unlock()
	for tries := 0; ; tries++ {
		n := ipCounter.n % ipSpace
		ipCounter.n++
		ip := fmt.Sprintf("127.0.%d.%d", 1+n/254, 1+n%254)
		if !probe22 || tries > 100 {
			return ip
		}
		if l, err := net.Listen("tcp", net.JoinHostPort(ip, "22")); err == nil {
			l.Close()
			return ip
		}
	}
}

// boot starts the instance's sshd if it has a known launch key.
func (m *machines) boot(ctx context.Context, region, id, keyName string) error {
	m.mu.Lock()
	mc := m.byID[region+"/"+id]
	key := m.keys[region+"/"+keyName]
	run := m.ssh && !m.closed && mc != nil && mc.server == nil && key != nil
	m.mu.Unlock()
	if !run {
		return nil
	}
	addr, err := sshAddr(mc.ip)
	if err != nil {
		return err
	}
	srv, err := sshd.Start(ctx, sshd.Config{Addr: addr, AuthorizedKeys: []ssh.PublicKey{key}, Logger: m.log.Named(id)})
	if err != nil {
		return fmt.Errorf("start sshd of %s: %w", id, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || mc.server != nil {
		_ = srv.Stop()
		return nil
	}
	mc.server, mc.addr = srv, addr
	m.log.Info("instance reachable over ssh", "instance", id, "addr", addr)
	return nil
}

// sshAddr is ip:22 as root; otherwise a free port on ip (connect with the
// ssh_port override and your own login name).
func sshAddr(ip string) (string, error) {
	if os.Geteuid() == 0 {
		return net.JoinHostPort(ip, "22"), nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "", fmt.Errorf("find a free port on %s: %w", ip, err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// halt stops the instance's sshd (stop or terminate).
func (m *machines) halt(region, id string) {
	m.mu.Lock()
	mc := m.byID[region+"/"+id]
	var srv *sshd.Server
	if mc != nil {
		srv, mc.server = mc.server, nil
	}
	m.mu.Unlock()
	if srv != nil {
		if err := srv.Stop(); err != nil {
			m.log.Warn("stop sshd", "instance", id, "error", err)
		}
	}
}

// sshAddrOf returns where an instance's sshd listens.
func (m *machines) sshAddrOf(region, id string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mc := m.byID[region+"/"+id]
	if mc == nil || mc.server == nil {
		return "", false
	}
	return mc.addr, true
}

// pids lists the PIDs of running sshd processes.
func (m *machines) pids() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int
	for _, mc := range m.byID {
		if mc.server != nil {
			out = append(out, mc.server.PID())
		}
	}
	return out
}

// close stops every sshd and refuses to start new ones.
func (m *machines) close() {
	m.mu.Lock()
	m.closed = true
	var servers []*sshd.Server
	for _, mc := range m.byID {
		if mc.server != nil {
			servers = append(servers, mc.server)
			mc.server = nil
		}
	}
	m.mu.Unlock()
	for _, s := range servers {
		if err := s.Stop(); err != nil {
			m.log.Warn("stop sshd", "addr", s.Addr(), "error", err)
		}
	}
}

package localcloud

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/guest"
	"github.com/imgbuild/imgbuild/internal/localcloud/cloudinit"
	"github.com/imgbuild/imgbuild/internal/winguest"
)

// machine is the loopback host of one instance and, for a Linux instance
// when guests are on, its guest.
type machine struct {
	ip    string
	guest *guest.Guest
	// A Windows instance's simulated guest, its key pair's name (for
	// GetPasswordData) and its directory (disk and log).
	win *winguest.Machine
	key string
	dir string
}

// machines gives instances loopback addresses, runs their guests and keeps
// the content of images and snapshots in a layer store.
type machines struct {
	log    hclog.Logger
	guests bool
	base   string // the base system's root directory
	dir    string // instance directories
	state  string // the cloud's state directory
	store  *guest.Store

	win     Settings                // the Windows guests' delays and failing commands
	stopped func(region, id string) // a Windows guest shut itself down

	// ebs holds the volumes guests see and the images registered from
	// snapshots (volumes.go).
	ebs ebsState

	mu     sync.Mutex
	keys   map[string]ssh.PublicKey // region/keyName
	byID   map[string]*machine      // region/instanceID
	closed bool
}

// newMachines returns machines without guests; withGuests turns them on.
func newMachines(log hclog.Logger) *machines {
	return &machines{log: log, keys: map[string]ssh.PublicKey{}, byID: map[string]*machine{}}
}

// withGuests boots a guest for every Linux instance, over base, keeping
// instance disks and layers in state.
func (m *machines) withGuests(base, state string) error {
	store, err := guest.NewStore(filepath.Join(state, "layers"))
	if err != nil {
		return err
	}
	m.guests, m.base, m.dir, m.state, m.store = true, base, filepath.Join(state, "instances"), state, store
	return nil
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
	return m.machineLocked(region, id).ip
}

func (m *machines) machineLocked(region, id string) *machine {
	mc := m.byID[region+"/"+id]
	if mc == nil {
		mc = &machine{ip: allocateIP(m.guests)}
		m.byID[region+"/"+id] = mc
	}
	return mc
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

// launch is what a new instance boots from.
type launch struct {
	key      string // key pair name
	image    string // image ID
	userData string // base64, as RunInstances takes it
	windows  bool
}

// create makes the guest of a new instance and starts booting it: a real
// Linux guest, or a simulated Windows one (windows.go). Clouds without
// guests make none.
func (m *machines) create(ctx context.Context, region, id string, l launch) error {
	m.mu.Lock()
	mc := m.machineLocked(region, id)
	key := m.keys[region+"/"+l.key]
	run := m.guests && !m.closed && mc.guest == nil && mc.win == nil
	m.mu.Unlock()
	if !run {
		return nil
	}
	if l.windows {
		return m.createWindows(ctx, region, id, mc, l)
	}
	raw, err := base64.StdEncoding.DecodeString(l.userData)
	if err != nil {
		return fmt.Errorf("user data of %s is not base64: %w", id, err)
	}
	firstBoot, err := cloudinit.Script(raw)
	if err != nil {
		return fmt.Errorf("user data of %s: %w", id, err)
	}
	var auth []byte
	if key != nil {
		auth = ssh.MarshalAuthorizedKey(key)
	}
	stack, _ := m.store.Stack(imageHolder(region, l.image))
	m.store.Hold(instanceHolder(region, id), stack)
	g, err := guest.New(guest.Spec{
		Dir:            filepath.Join(m.dir, region+"-"+id),
		Lowers:         m.store.Lowers(stack, m.base),
		InstanceID:     id,
		IP:             mc.ip,
		Hostname:       "ip-" + strings.ReplaceAll(mc.ip, ".", "-"),
		AuthorizedKeys: auth,
		FirstBoot:      firstBoot,
		Volumes:        m.guestVolumes(region, id),
		Logger:         m.log.Named(id),
	})
	if err != nil {
		return err
	}
	m.mu.Lock()
	mc.guest = g
	m.mu.Unlock()
	// Like EC2, RunInstances answers before the system has booted: sshd
	// comes up a moment later.
	go func() {
		if err := g.Boot(context.WithoutCancel(ctx)); err != nil {
			m.log.Error("instance will not answer ssh", "instance", id, "region", region, "error", err)
			return
		}
		m.log.Info("instance booted", "instance", id, "region", region, "ssh", mc.ip+":22")
	}()
	return nil
}

func (m *machines) guestOf(region, id string) *guest.Guest {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mc := m.byID[region+"/"+id]; mc != nil {
		return mc.guest
	}
	return nil
}

// boot starts a stopped instance's guest again.
func (m *machines) boot(ctx context.Context, region, id string) error {
	if g := m.guestOf(region, id); g != nil {
		return g.Boot(ctx)
	}
	if w, _ := m.windowsOf(region, id); w != nil {
		m.bootWindows(ctx, region, id, w)
	}
	return nil
}

// reboot restarts an instance's guest.
func (m *machines) reboot(ctx context.Context, region, id string) error {
	if g := m.guestOf(region, id); g != nil {
		return g.Reboot(ctx)
	}
	if w, _ := m.windowsOf(region, id); w != nil {
		w.Stop()
		m.bootWindows(ctx, region, id, w)
	}
	return nil
}

// halt stops an instance's guest, keeping its disk.
func (m *machines) halt(region, id string) {
	if g := m.guestOf(region, id); g != nil {
		g.Stop()
	}
	if w, _ := m.windowsOf(region, id); w != nil {
		w.Stop()
	}
}

// terminate stops an instance's guest and deletes its disk.
func (m *machines) terminate(region, id string) {
	if w, mc := m.windowsOf(region, id); w != nil {
		w.Stop()
		if err := os.RemoveAll(mc.dir); err != nil {
			m.log.Warn("remove instance disk", "instance", id, "error", err)
		}
		m.releaseInstance(region, id)
		return
	}
	g := m.guestOf(region, id)
	if g == nil {
		return
	}
	if err := g.Remove(); err != nil {
		m.log.Warn("remove instance disk", "instance", id, "error", err)
	}
	m.releaseInstance(region, id)
}

// releaseInstance drops a terminated instance's layers.
func (m *machines) releaseInstance(region, id string) {
	if err := m.store.Release(instanceHolder(region, id)); err != nil {
		m.log.Warn("release instance layers", "instance", id, "error", err)
	}
}

// capture keeps an instance's disk for holder (CreateImage,
// CreateSnapshot): a running guest is stopped around the capture unless
// live is set (NoReboot).
func (m *machines) capture(ctx context.Context, region, id, holder string, live bool) error {
	if w, mc := m.windowsOf(region, id); w != nil {
		// The simulated Windows guest writes files straight to its disk.
		below, _ := m.store.Stack(instanceHolder(region, id))
		_, err := m.store.Capture(holder, below, filepath.Join(mc.dir, "disk"))
		return err
	}
	g := m.guestOf(region, id)
	if g == nil {
		// No guest: the image has the content the instance was launched from.
		m.share(instanceHolder(region, id), holder)
		return nil
	}
	below, _ := m.store.Stack(instanceHolder(region, id))
	if g.Running() && !live {
		g.Stop()
		defer func() {
			if err := g.Boot(ctx); err != nil {
				m.log.Error("instance did not come back after its image was made", "instance", id, "error", err)
			}
		}()
	}
	_, err := m.store.Capture(holder, below, g.Upper())
	return err
}

// share has holder hold what from holds (CopyImage, RegisterImage from a
// snapshot, an image's snapshots).
func (m *machines) share(from, holder string) {
	if !m.guests {
		return
	}
	stack, _ := m.store.Stack(from)
	m.store.Hold(holder, stack)
}

// release drops holder's layers (DeregisterImage, DeleteSnapshot).
func (m *machines) release(holder string) {
	if !m.guests {
		return
	}
	if err := m.store.Release(holder); err != nil {
		m.log.Warn("release layers", "holder", holder, "error", err)
	}
}

func imageHolder(region, id string) string    { return "image " + region + "/" + id }
func snapshotHolder(region, id string) string { return "snapshot " + region + "/" + id }
func instanceHolder(region, id string) string { return "instance " + region + "/" + id }

// sshAddrOf returns where a running instance's sshd listens.
func (m *machines) sshAddrOf(region, id string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mc := m.byID[region+"/"+id]
	if mc == nil || mc.guest == nil || !mc.guest.Running() {
		return "", false
	}
	return net.JoinHostPort(mc.ip, "22"), true
}

// pids lists the host PIDs of running guests' first processes.
func (m *machines) pids() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int
	for _, mc := range m.byID {
		if mc.guest != nil {
			if pid := mc.guest.PID(); pid != 0 {
				out = append(out, pid)
			}
		}
	}
	return out
}

// close stops every guest, deletes every disk and refuses new guests.
func (m *machines) close() {
	m.mu.Lock()
	m.closed = true
	var guests []*guest.Guest
	for _, mc := range m.byID {
		if mc.guest != nil {
			guests = append(guests, mc.guest)
		}
	}
	var wins []*winguest.Machine
	for _, mc := range m.byID {
		if mc.win != nil {
			wins = append(wins, mc.win)
		}
	}
	m.mu.Unlock()
	for _, w := range wins {
		w.Stop()
	}
	var wg sync.WaitGroup
	for _, g := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Remove(); err != nil {
				m.log.Warn("remove guest", "error", err)
			}
		}()
	}
	wg.Wait()
	if m.dir != "" {
		if err := os.RemoveAll(m.dir); err != nil {
			m.log.Warn("remove instance disks", "error", err)
		}
	}
}

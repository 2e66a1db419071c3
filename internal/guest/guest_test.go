package guest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/guest"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// testBase returns the base system, making it if needed (minutes, once).
func testBase(t *testing.T) string {
	t.Helper()
	testenv.Require(t, testenv.Root, testenv.Debootstrap)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	base, err := guest.EnsureBase(ctx, guest.BaseOptions{Progress: func(l string) { t.Log(l) }})
	if err != nil {
		t.Fatal(err)
	}
	return base
}

type testKey struct {
	signer ssh.Signer
	auth   []byte
	priv   ed25519.PrivateKey
}

func newTestKey(t *testing.T) testKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{signer: s, auth: ssh.MarshalAuthorizedKey(s.PublicKey()), priv: priv}
}

// run runs cmd on the guest at ip as user and returns its output.
func (k testKey) run(t *testing.T, ip, user, cmd string) (string, error) {
	t.Helper()
	c, err := ssh.Dial("tcp", ip+":22", &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(k.signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		return "", err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func (k testKey) must(t *testing.T, ip, user, cmd string) string {
	t.Helper()
	out, err := k.run(t, ip, user, cmd)
	if err != nil {
		t.Fatalf("%s on %s: %v\n%s", cmd, ip, err, out)
	}
	return strings.TrimSpace(out)
}

var testIP = 0

type testGuest struct {
	*guest.Guest
	spec guest.Spec
}

func newTestGuest(t *testing.T, dir string, lowers []string, key testKey, firstBoot string) testGuest {
	t.Helper()
	testIP++
	ip := fmt.Sprintf("127.0.%d.%d", 250, 10+testIP+os.Getpid()%200)
	id := fmt.Sprintf("i-test%04d", testIP)
	spec := guest.Spec{Dir: dir, Lowers: lowers, InstanceID: id, IP: ip, Hostname: "ip-" + strings.ReplaceAll(ip, ".", "-"),
		AuthorizedKeys: key.auth, FirstBoot: firstBoot, Logger: testenv.Logger(t)}
	g, err := guest.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Remove() })
	return testGuest{g, spec}
}

// TestGuestLifecycle boots a guest, uses sudo in it, reboots it from
// inside, stops and starts it, captures its disk as a layer, boots a second
// guest from that layer, and removes both, leaving no mount, process or
// layer behind.
func TestGuestLifecycle(t *testing.T) {
	base := testBase(t)
	dir := t.TempDir()
	store, err := guest.NewStore(filepath.Join(dir, "layers"))
	if err != nil {
		t.Fatal(err)
	}
	key := newTestKey(t)
	g := newTestGuest(t, filepath.Join(dir, "i-1"), store.Lowers(nil, base), key, "echo first boot ran\ntouch /root/first-boot\n")
	ip := g.spec.IP

	if got := g.must(t, key, "ec2-user", "sudo id -u"); got != "0" {
		t.Fatalf("sudo id -u = %q", got)
	}
	if got := g.must(t, key, "ubuntu", "hostname"); got != g.spec.Hostname {
		t.Fatalf("hostname = %q, want %q", got, g.spec.Hostname)
	}
	if got := g.must(t, key, "admin", "cat /etc/os-release"); !strings.Contains(got, "Debian") {
		t.Fatalf("os-release: %s", got)
	}
	if got := g.must(t, key, "admin", "cloud-init status --wait"); !strings.HasSuffix(got, "status: done") {
		t.Fatalf("cloud-init status --wait: %q", got)
	}
	if got := g.must(t, key, "admin", "sudo cat /var/log/cloud-init-output.log"); !strings.Contains(got, "first boot ran") {
		t.Fatalf("cloud-init-output.log: %q", got)
	}
	// Its own PID namespace: few processes, init is PID 1.
	if got := g.must(t, key, "ec2-user", "cat /proc/1/cmdline | tr '\\0' ' '"); !strings.Contains(got, "/run/imgbuild/init") {
		t.Fatalf("PID 1 is %q", got)
	}
	if _, err := key.run(t, ip, "root", "true"); err == nil {
		t.Fatal("root logged in with the launch key")
	}
	if ms := testenv.MountsUnder(t, dir); len(ms) != 0 {
		t.Fatalf("the guest's mounts show on the host: %v", ms)
	}
	g.must(t, key, "ec2-user", "echo kept | sudo tee /etc/imgbuild-marker >/dev/null; echo private > /tmp/only-here")

	// A reboot from inside restarts its processes and keeps the disk.
	pid := g.PID()
	_, _ = key.run(t, ip, "ec2-user", "sudo reboot")
	waitFor(t, func() bool { p := g.PID(); return p != 0 && p != pid })
	waitSSH(t, key, ip)
	if got := g.must(t, key, "ec2-user", "cat /etc/imgbuild-marker"); got != "kept" {
		t.Fatalf("marker after reboot: %q", got)
	}
	if got := g.must(t, key, "ec2-user", "cloud-init status"); got != "status: done" {
		t.Fatalf("cloud-init status after reboot: %q", got)
	}
	if got := g.must(t, key, "ec2-user", "sudo grep -c 'first boot ran' /var/log/cloud-init-output.log"); got != "1" {
		t.Fatalf("user data ran %s times", got)
	}

	// Stop ends every process; Boot starts it again with the same disk.
	g.Stop()
	if g.Running() {
		t.Fatal("still running after Stop")
	}
	if _, err := key.run(t, ip, "ec2-user", "true"); err == nil {
		t.Fatal("ssh answered a stopped guest")
	}
	if err := g.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := g.must(t, key, "ec2-user", "cat /etc/imgbuild-marker"); got != "kept" {
		t.Fatalf("marker after stop and start: %q", got)
	}
	g.must(t, key, "ec2-user", "sudo rm /etc/motd")
	g.Stop()

	// Capture the disk; a second guest boots from it with the change and
	// the deletion, and runs its own first boot.
	stack, err := store.Capture("image", nil, g.Upper())
	if err != nil {
		t.Fatal(err)
	}
	if len(stack) != 1 {
		t.Fatalf("stack %v", stack)
	}
	g2 := newTestGuest(t, filepath.Join(dir, "i-2"), store.Lowers(stack, base), key, "")
	ip2 := g2.spec.IP
	if got := g2.must(t, key, "ec2-user", "cat /etc/imgbuild-marker; test -e /etc/motd || echo motd-gone"); got != "kept\nmotd-gone" {
		t.Fatalf("second guest sees %q", got)
	}
	if got := g2.must(t, key, "ec2-user", "hostname"); got != g2.spec.Hostname {
		t.Fatalf("second guest hostname %q", got)
	}
	if _, err := key.run(t, ip2, "ec2-user", "sudo test -e /root/first-boot"); err != nil {
		t.Fatalf("the first guest's first-boot file is missing from its image: %v", err)
	}
	// A capture of an unchanged-on-top disk stacks a second layer.
	g2.must(t, key, "ec2-user", "echo two | sudo tee /etc/second >/dev/null")
	g2.Stop()
	stack2, err := store.Capture("image2", stack, g2.Upper())
	if err != nil || len(stack2) != 2 {
		t.Fatalf("second capture: %v %v", stack2, err)
	}

	for _, gg := range []testGuest{g, g2} {
		if err := gg.Remove(); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Release("image"); err != nil {
		t.Fatal(err)
	}
	if ls, _ := store.Layers(); len(ls) != 2 {
		t.Fatalf("layers after releasing the first image (the second still holds both): %v", ls)
	}
	if err := store.Release("image2"); err != nil {
		t.Fatal(err)
	}
	if ls, _ := store.Layers(); len(ls) != 0 {
		t.Fatalf("layers left: %v", ls)
	}
	if ms := testenv.MountsUnder(t, dir); len(ms) != 0 {
		t.Fatalf("mounts left: %v", ms)
	}
}

func (g testGuest) must(t *testing.T, k testKey, user, cmd string) string {
	t.Helper()
	return k.must(t, g.spec.IP, user, cmd)
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("timed out")
}

func waitSSH(t *testing.T, k testKey, ip string) {
	t.Helper()
	waitFor(t, func() bool { _, err := k.run(t, ip, "ec2-user", "true"); return err == nil })
}

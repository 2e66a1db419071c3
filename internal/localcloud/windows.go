package localcloud

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/imgbuild/imgbuild/internal/winguest"
)

// A Windows instance gets a simulated Windows guest (internal/winguest) on
// its loopback address: a WS-Management endpoint on ports 5985 (HTTP) and
// 5986 (HTTPS, self-signed), answering after the windows-boot delay, an
// Administrator password GetPasswordData returns encrypted with the launch
// key pair's public key, and a disk whose files become image content like
// a Linux guest's upper directory. It does not run PowerShell: it records
// what it receives in a per-instance log (GuestLog, and
// /_localcloud/guests/<region>/<instance>/log).

// passwordChars are the characters of a generated Administrator password,
// as EC2Launch draws them: letters, digits and a few symbols.
const passwordChars = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#$%&*()=?"

// randomPassword returns a new Administrator password.
func randomPassword() (string, error) {
	b := make([]byte, 32)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(passwordChars))))
		if err != nil {
			return "", err
		}
		b[i] = passwordChars[n.Int64()]
	}
	return string(b), nil
}

// createWindows makes and boots the simulated Windows guest of a new
// instance.
func (m *machines) createWindows(ctx context.Context, region, id string, mc *machine, l launch) error {
	raw, err := base64.StdEncoding.DecodeString(l.userData)
	if err != nil {
		return fmt.Errorf("user data of %s is not base64: %w", id, err)
	}
	pw, err := randomPassword()
	if err != nil {
		return err
	}
	stack, _ := m.store.Stack(imageHolder(region, l.image))
	m.store.Hold(instanceHolder(region, id), stack)
	lowers := m.store.Lowers(stack, "") // no Linux base system under a Windows disk
	dir := filepath.Join(m.dir, region+"-"+id)
	if err := os.MkdirAll(filepath.Join(dir, "disk"), 0o755); err != nil {
		return err
	}
	// The log outlives the instance, for tests to read after a build.
	if err := os.MkdirAll(filepath.Join(m.state, "guest-logs"), 0o755); err != nil {
		return err
	}
	w, err := winguest.New(winguest.Options{
		Disk:         filepath.Join(dir, "disk"),
		Lowers:       lowers,
		InstanceID:   id,
		Hostname:     "EC2AMAZ-" + strings.ToUpper(id[len(id)-7:]),
		IP:           mc.ip,
		Log:          filepath.Join(m.state, "guest-logs", region+"-"+id+".log"),
		Accounts:     map[string]string{"Administrator": pw},
		UserData:     raw,
		FailGlob:     m.win.FailCommands,
		BootDelay:    m.win.WindowsBoot,
		RestartDelay: m.win.WindowsRestart,
		SysprepDelay: m.win.Sysprep,
		OnStop: func(reason string) {
			m.log.Info("Windows instance stops itself", "instance", id, "region", region, "reason", reason)
			if m.stopped != nil {
				m.stopped(region, id)
			}
		},
		Logger: m.log.Named(id),
	})
	if err != nil {
		return err
	}
	m.mu.Lock()
	mc.win, mc.key, mc.dir = w, l.key, dir
	m.mu.Unlock()
	m.bootWindows(ctx, region, id, w)
	return nil
}

// bootWindows boots a Windows guest in the background: like EC2,
// RunInstances and StartInstances answer long before WinRM does.
func (m *machines) bootWindows(ctx context.Context, region, id string, w *winguest.Machine) {
	go func() {
		if err := w.Boot(context.WithoutCancel(ctx)); errors.Is(err, winguest.ErrStopped) {
			m.log.Debug("Windows instance stopped while booting", "instance", id, "region", region)
			return
		} else if err != nil {
			m.log.Error("Windows instance will not answer WinRM", "instance", id, "region", region, "error", err)
			return
		}
		m.log.Info("Windows instance booted", "instance", id, "region", region)
	}()
}

func (m *machines) windowsOf(region, id string) (*winguest.Machine, *machine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mc := m.byID[region+"/"+id]; mc != nil && mc.win != nil {
		return mc.win, mc
	}
	return nil, nil
}

// passwordData returns GetPasswordData's answer for an instance: "" until
// Windows has booted (and for instances that are not Windows), then the
// Administrator password encrypted with the launch key pair's RSA key
// (PKCS #1 v1.5), base64, as EC2 returns it.
func (m *machines) passwordData(region, id string) (string, error) {
	w, mc := m.windowsOf(region, id)
	if w == nil || !w.Ready() {
		return "", nil
	}
	m.mu.Lock()
	key := m.keys[region+"/"+mc.key]
	m.mu.Unlock()
	if key == nil {
		return "", nil // launched without a key pair: EC2 has nothing to encrypt with
	}
	ck, ok := key.(ssh.CryptoPublicKey)
	if !ok {
		return "", nil
	}
	pub, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
	if !ok {
		return "", nil // EC2 gives no password data for a non-RSA key pair
	}
	pw, _ := w.Password("Administrator")
	//lint:ignore SA1019 the format EC2 uses for Windows passwords (GetPasswordData).
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, []byte(pw))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// GuestLog returns the path of a Windows instance's guest log, "" when the
// instance has no Windows guest. The log stays after the instance is
// terminated, until the cloud closes.
func (c *Cloud) GuestLog(region, id string) string {
	if w, _ := c.proxy.machines.windowsOf(region, id); w != nil {
		return w.LogPath()
	}
	return ""
}

// serveGuestLog answers /_localcloud/guests/<region>/<instance>/log with a
// Windows guest's log (JSON lines).
func (p *proxy) serveGuestLog(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/_localcloud/guests/"), "/")
	if len(parts) != 3 || parts[2] != "log" {
		http.NotFound(w, r)
		return
	}
	g, _ := p.machines.windowsOf(parts[0], parts[1])
	if g == nil {
		http.Error(w, "no Windows guest for instance "+parts[1]+" in "+parts[0], http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	http.ServeFile(w, r, g.LogPath())
}

// beforeGetPasswordData answers GetPasswordData for the instances with a
// Windows guest (moto returns a made-up value).
func (p *proxy) beforeGetPasswordData(_ context.Context, r *request) (*node, *apiError) {
	id := r.form.Get("InstanceId")
	if w, _ := p.machines.windowsOf(r.region, id); w == nil {
		return nil, nil
	}
	data, err := p.machines.passwordData(r.region, id)
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	resp := okResponse("GetPasswordData")
	resp.set("instanceId", id)
	resp.set("timestamp", time.Now().UTC().Format(time.RFC3339))
	resp.set("passwordData", data)
	return resp, nil
}

// selfStop is a Windows guest shutting itself down (Sysprep with
// shutdown, shutdown /s): the instance goes stopping, then stopped, with
// no StopInstances call from any client.
func (p *proxy) selfStop(region, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.call(ctx, region, url.Values{"Action": {"StopInstances"}, "InstanceId.1": {id}}); err != nil {
		p.log.Error("a Windows instance that shut itself down is not stopped", "instance", id, "region", region, "error", err)
		return
	}
	p.world.instanceTransition(region, id, "stopping", p.s.Stop)
}

// GuestPassword returns the password of a user of a Windows instance's
// guest, for tests that check it never shows.
func (c *Cloud) GuestPassword(region, id, user string) (string, bool) {
	if w, _ := c.proxy.machines.windowsOf(region, id); w != nil {
		return w.Password(user)
	}
	return "", false
}

package localcloud

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/imgbuild/imgbuild/internal/guest"
)

// Region is the region the local cloud's environment points SDKs at.
const Region = "us-east-1"

// Options configures Start.
type Options struct {
	// Settings are the realism settings, usually from ProfileSettings.
	Settings Settings
	// Addr is the loopback host:port the layer listens on; empty means
	// 127.0.0.1 on a free port.
	Addr string
	// Logger receives the layer's, moto's and sshd's logs; nil discards.
	Logger hclog.Logger
	// Progress hears about the making of the guest base system (the first
	// time guests are on; minutes); nil sends it to Logger.
	Progress func(line string)
	// Intercept, when set, sees every EC2 request before it is forwarded
	// and after moto answered it, and may drop or fail it (for tests that
	// stop a client at an exact step).
	Intercept Interceptor
	// Moto, when set, lends the cloud its moto_server, which Close resets
	// and gives back instead of stopping it.
	Moto *MotoPool
}

// EC2CertEnv names, in Env, the file holding the cloud's EC2 bundling
// certificate: an amazon-instance template on the local cloud sets
// ec2_cert_path to it (env("IMGBUILD_LOCALCLOUD_EC2_CERT") in a variable's
// default), as it would leave it unset on AWS.
const EC2CertEnv = "IMGBUILD_LOCALCLOUD_EC2_CERT"

// writeEC2Certificate writes the cloud's EC2 bundling certificate to a
// new temporary file and returns its path.
func (c *Cloud) writeEC2Certificate() (string, error) {
	cert, err := c.EC2Certificate()
	if err != nil {
		return "", fmt.Errorf("make the local cloud's EC2 bundling key: %w", err)
	}
	f, err := os.CreateTemp("", "imgbuild-localcloud-ec2-*.pem")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Cloud is a running local cloud: moto_server, the realism layer in front
// of it, and a guest per running Linux instance.
type Cloud struct {
	url   string
	log   hclog.Logger
	moto  *motoProcess
	pool  *MotoPool // nil: moto is the cloud's own
	state string    // guests' disks and layers
	// certFile holds the cloud's EC2 bundling certificate (PEM), for
	// templates' ec2_cert_path (EC2CertEnv).
	certFile string
	proxy    *proxy
	srv      *http.Server
	served   chan error

	closeOnce sync.Once
	closeErr  error
}

// Start starts moto_server and the realism layer and returns when both
// answer. The caller must call Close.
func Start(ctx context.Context, opts Options) (*Cloud, error) {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	machines := newMachines(log.Named("guest"))
	var state string
	if opts.Settings.SSH {
		var err error
		if state, err = prepareGuests(ctx, opts, log, machines); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.RemoveAll(state)
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	var moto *motoProcess
	if opts.Moto != nil {
		moto, err = opts.Moto.take(ctx, log.Named("moto"))
	} else {
		moto, err = startMoto(ctx, log.Named("moto"))
	}
	if err != nil {
		ln.Close()
		os.RemoveAll(state)
		return nil, err
	}
	c := &Cloud{url: "http://" + ln.Addr().String(), log: log, moto: moto, pool: opts.Moto, state: state, served: make(chan error, 1)}
	c.proxy = newProxy(moto.url, opts.Settings, log, machines)
	if opts.Intercept != nil {
		c.proxy.intercept = newInterceptor(opts.Intercept)
	}
	c.srv = &http.Server{Handler: c.proxy, ReadHeaderTimeout: 10 * time.Second}
	if c.certFile, err = c.writeEC2Certificate(); err != nil {
		ln.Close()
		c.releaseMoto()
		os.RemoveAll(state)
		return nil, err
	}
	go func() { c.served <- c.srv.Serve(ln) }()
	log.Info("local cloud started", "endpoint", c.url, "profile", opts.Settings.Profile, "moto_pid", moto.pid())
	return c, nil
}

// releaseMoto gives moto_server back to the pool it came from, or stops it.
func (c *Cloud) releaseMoto() error {
	if c.pool != nil {
		return c.pool.give(c.moto)
	}
	return c.moto.stop()
}

// checkLoopback refuses listen addresses outside 127.0.0.0/8.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("local cloud address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("local cloud address %q: must be a loopback address (127.0.0.0/8)", addr)
	}
	return nil
}

// prepareGuests makes sure guests can run (root, Linux), makes the base
// system the first time, and creates the state directory for disks and
// layers, which it returns.
func prepareGuests(ctx context.Context, opts Options, log hclog.Logger, m *machines) (string, error) {
	if err := guest.Supported(); err != nil {
		return "", err
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(line string) { log.Info(line) }
	}
	base, err := guest.EnsureBase(ctx, guest.BaseOptions{Progress: progress})
	if err != nil {
		return "", err
	}
	state, err := os.MkdirTemp("", "imgbuild-localcloud-")
	if err != nil {
		return "", fmt.Errorf("create the local cloud's state directory: %w", err)
	}
	if err := m.withGuests(base, state); err != nil {
		os.RemoveAll(state)
		return "", err
	}
	return state, nil
}

// URL returns the endpoint URL (AWS_ENDPOINT_URL).
func (c *Cloud) URL() string { return c.url }

// Env returns the variables that point an AWS SDK at the cloud, sorted, as
// KEY=VALUE strings.
func (c *Cloud) Env() []string {
	env := []string{
		"AWS_ENDPOINT_URL=" + c.url,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_REGION=" + Region,
		EC2CertEnv + "=" + c.certFile,
	}
	sort.Strings(env)
	return env
}

// WaitIdle returns once no EC2 request is being served (or after 30s):
// requests a client sent just before it died have then been carried out,
// or not, for good.
func (c *Cloud) WaitIdle() {
	for deadline := time.Now().Add(30 * time.Second); c.proxy.inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

// Stats returns the request counts so far and the critical path.
func (c *Cloud) Stats() Stats { return c.proxy.statsNow() }

// SSHAddr returns where the sshd of a running instance's guest listens.
func (c *Cloud) SSHAddr(region, instanceID string) (string, bool) {
	return c.proxy.machines.sshAddrOf(region, instanceID)
}

// StateDir returns the directory holding the guests' disks (instances/)
// and the images' content layers (layers/); empty without guests. Close
// removes it.
func (c *Cloud) StateDir() string { return c.state }

// PIDs returns the IDs of the processes the cloud runs (moto and the first
// process of every running guest).
func (c *Cloud) PIDs() []int {
	return append([]int{c.moto.pid()}, c.proxy.machines.pids()...)
}

// Close stops the layer, every guest and moto_server, and removes their
// disks, layers and temporary files. Calling it again returns the first result.
func (c *Cloud) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Cloud) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if err := c.srv.Shutdown(ctx); err != nil {
		// A request still being carried out for a client that is gone
		// (requests are finished even then): cut it off.
		c.log.Warn("graceful stop timed out; closing open connections", "error", err)
		if err := c.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop local cloud endpoint: %w", err))
		}
	}
	if err := <-c.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve local cloud endpoint: %w", err))
	}
	c.proxy.bundles.close()
	c.proxy.machines.close()
	os.Remove(c.certFile)
	if c.state != "" {
		if err := os.RemoveAll(c.state); err != nil {
			errs = append(errs, fmt.Errorf("remove the local cloud's state %s: %w", c.state, err))
		}
	}
	if err := c.releaseMoto(); err != nil {
		errs = append(errs, err)
	}
	c.log.Info("local cloud stopped", "endpoint", c.url)
	return errors.Join(errs...)
}

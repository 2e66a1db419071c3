package localcloud

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// Instance-store images and BundleInstance. The cloud plays EC2's part in
// the ec2-ami-tools bundle format (package internal/bundle): it has its own
// bundling key pair, made once per process, whose certificate it serves at
// GET /_localcloud/ec2-certificate; RegisterImage with an ImageLocation
// unwraps a bundle's key with it (instancestore.go), and BundleInstance
// bundles a Windows guest's disk for it (bundletasks.go).

// AccessKeyID and SecretAccessKey are the credentials the cloud hands out
// (Env). moto accepts any, but they are the only ones whose secret key the
// cloud knows, so BundleInstance can check an upload policy signed with
// them and refuses one naming another access key.
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
)

// motoAccount is the account moto serves every request as.
const motoAccount = "123456789012"

// cloudKey is the cloud's EC2 bundling key: an RSA key pair and a
// self-signed certificate of its public key.
type cloudKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	pem  []byte // the certificate, PEM-encoded
}

// newCloudKey makes a 2048-bit RSA key and a certificate for it, valid for
// ten years (EC2 only uses the certificate's public key).
func newCloudKey() (*cloudKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("make the local cloud's EC2 bundling key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, fmt.Errorf("make the local cloud's EC2 certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"imgbuild"}, CommonName: "imgbuild local cloud EC2 bundling"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("make the local cloud's EC2 certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &cloudKey{key: key, cert: cert, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// bundles is what the layer knows about instance-store images, the
// instances launched from them and bundle tasks, keyed by "region/id".
type bundles struct {
	mu        sync.Mutex
	images    map[string]*storeImage
	instances map[string]*storeInstance
	windows   map[string]bool // image digests of bundles made from Windows guests
	tasks     map[string]*bundleTask
	// terminated marks the instances TerminateInstances was asked for
	// (region/id), before moto hears of it: a task does not start such
	// an instance again after bundling it.
	terminated map[string]bool
	// restart is held while a task starts its instance again, and by
	// TerminateInstances until it has marked its instances.
	restart sync.Mutex

	// run is cancelled by close; every task goroutine is in wg.
	run  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
}

func newBundles() *bundles {
	run, stop := context.WithCancel(context.Background())
	return &bundles{
		images: map[string]*storeImage{}, instances: map[string]*storeInstance{},
		windows: map[string]bool{}, tasks: map[string]*bundleTask{}, terminated: map[string]bool{},
		run: run, stop: stop,
	}
}

// processKey is the bundling key of every cloud of this process: an RSA
// key takes a noticeable time to make, and Start writes its certificate
// (EC2CertEnv), so the tests' many clouds share one.
var processKey struct {
	once sync.Once
	key  *cloudKey
	err  error
}

// cloudKey returns the cloud's bundling key, made the first time a cloud
// of this process needs it.
func (b *bundles) cloudKey() (*cloudKey, error) {
	processKey.once.Do(func() { processKey.key, processKey.err = newCloudKey() })
	return processKey.key, processKey.err
}

// close cancels every bundle task and waits for their goroutines.
func (b *bundles) close() {
	b.stop()
	b.wg.Wait()
}

// EC2Certificate returns the certificate of the cloud's EC2 bundling key:
// bundles whose key is wrapped for it (bundle.Options.EC2Cert) register
// with RegisterImage; GET /_localcloud/ec2-certificate serves it as PEM.
func (c *Cloud) EC2Certificate() (*x509.Certificate, error) {
	k, err := c.proxy.bundles.cloudKey()
	if err != nil {
		return nil, err
	}
	return k.cert, nil
}

// serveEC2Certificate answers GET /_localcloud/ec2-certificate.
func (p *proxy) serveEC2Certificate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	k, err := p.bundles.cloudKey()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(k.pem)
}

// beforeFunc and afterFunc are the two halves of a hook.
type (
	beforeFunc = func(context.Context, *request) (*node, *apiError)
	afterFunc  = func(context.Context, *request, *node)
)

// addBundleHooks adds the instance-store actions to hooks and wraps the
// hooks of the actions instance-store images change: the layer's own
// handling of those stays where it is and runs as before.
func (p *proxy) addBundleHooks(hooks map[string]hook) {
	hooks["BundleInstance"] = hook{before: p.bundleInstance}
	hooks["DescribeBundleTasks"] = hook{before: p.describeBundleTasks}
	hooks["CancelBundleTask"] = hook{before: p.cancelBundleTask}
	wrapBefore(hooks, "RegisterImage", p.registerBundle)
	wrapBefore(hooks, "StopInstances", p.refuseStoreStop)
	wrapBefore(hooks, "TerminateInstances", p.markTerminated)
	// The platform of an instance of a Windows bundle must be set before
	// the layer boots its guest.
	wrapAfter(hooks, "RunInstances", p.afterRunFromStore, true)
	wrapAfter(hooks, "DescribeInstances", p.afterDescribeStoreInstances, false)
	wrapAfter(hooks, "DescribeImages", p.afterDescribeStoreImages, false)
	wrapAfter(hooks, "DescribeSnapshots", p.hideStoreSnapshots, false)
	wrapAfter(hooks, "CopyImage", p.afterCopyStoreImage, false)
	wrapAfter(hooks, "DeregisterImage", p.afterDeregisterStoreImage, false)
}

// wrapBefore makes wrap(old) the before half of action's hook; wrap
// decides whether and when old runs.
func wrapBefore(hooks map[string]hook, action string, wrap func(old beforeFunc) beforeFunc) {
	h := hooks[action]
	h.before = wrap(h.before)
	hooks[action] = h
}

// wrapAfter runs fn after (or, with first, before) action's after half.
func wrapAfter(hooks map[string]hook, action string, fn afterFunc, first bool) {
	h := hooks[action]
	old := h.after
	h.after = func(ctx context.Context, r *request, resp *node) {
		if first {
			fn(ctx, r, resp)
		}
		if old != nil {
			old(ctx, r, resp)
		}
		if !first {
			fn(ctx, r, resp)
		}
	}
	hooks[action] = h
}

// markTerminated records the instances a TerminateInstances request names
// before the request reaches moto (see startAfterBundle).
func (p *proxy) markTerminated(old beforeFunc) beforeFunc {
	return func(ctx context.Context, r *request) (*node, *apiError) {
		p.bundles.restart.Lock()
		p.bundles.mu.Lock()
		for _, id := range r.values("InstanceId") {
			p.bundles.terminated[r.region+"/"+id] = true
		}
		p.bundles.mu.Unlock()
		p.bundles.restart.Unlock()
		if old != nil {
			return old(ctx, r)
		}
		return nil, nil
	}
}

// wasTerminated reports whether TerminateInstances was asked for the
// instance.
func (b *bundles) wasTerminated(region, id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.terminated[region+"/"+id]
}

package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// proxy is the realism layer: an http.Handler in front of moto_server.
type proxy struct {
	moto     *url.URL
	pass     *httputil.ReverseProxy
	client   *http.Client
	log      hclog.Logger
	s        Settings
	world    *world
	machines *machines
	stats    *counter
	// intercept, when set, lets tests stop or fail requests (intercept.go).
	intercept *interceptor
	// inflight counts EC2 requests being served, for WaitIdle.
	inflight atomic.Int64
	throttle *throttle
	hooks    map[string]hook
	// bundles holds instance-store images and bundle tasks (bundles.go).
	bundles *bundles
	// published holds the images publish-image made (publish.go).
	published *publications
}

// hook customises one EC2 action. before may answer the request itself
// (resp != nil) or refuse it (err != nil); after rewrites moto's answer.
type hook struct {
	before func(ctx context.Context, r *request) (resp *node, err *apiError)
	after  func(ctx context.Context, r *request, resp *node)
}

func newProxy(moto *url.URL, s Settings, log hclog.Logger, m *machines) *proxy {
	p := &proxy{
		moto: moto, log: log, s: s, machines: m,
		client: &http.Client{Timeout: 60 * time.Second},
		world:  newWorld(s), stats: newCounter(), throttle: newThrottle(),
		bundles: newBundles(), published: newPublications(),
	}
	p.pass = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(moto)
		pr.Out.Host = pr.In.Host
	}}
	p.hooks = p.ec2Hooks()
	p.addBundleHooks(p.hooks)
	p.addVolumeHooks(p.hooks)
	p.addLaunchTemplateHooks(p.hooks)
	p.addFleetHooks(p.hooks)
	p.addPublishHooks(p.hooks)
	p.addImageFilterHook(p.hooks) // last: it filters what the others show
	m.win, m.stopped = s, p.selfStop
	return p
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_localcloud/stats":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.statsNow())
		return
	case "/_localcloud/reset-stats":
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		p.stats.reset()
		w.WriteHeader(http.StatusNoContent)
		return
	case "/_localcloud/ec2-certificate":
		p.serveEC2Certificate(w, r)
		return
	case "/_localcloud/publish-image":
		p.servePublish(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_localcloud/guests/") {
		p.serveGuestLog(w, r)
		return
	}
	req, ok := p.ec2Request(r)
	if !ok {
		p.countSSM(r)
		p.pass.ServeHTTP(w, r)
		return
	}
	p.serveEC2(w, r, req)
}

// statsNow returns the request counts and the critical path so far.
func (p *proxy) statsNow() Stats {
	st := p.stats.snapshot()
	st.CriticalPath = p.world.criticalPath()
	return st
}

// ec2Request recognises an EC2 Query call by its SigV4 scope (service ec2)
// or, unsigned, by its form Version. Other requests are left unread.
func (p *proxy) ec2Request(r *http.Request) (*request, bool) {
	region, service := sigScope(r.Header)
	isForm := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	if r.Method != http.MethodPost || (service != "ec2" && (service != "" || !isForm)) {
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") == "" || (service == "" && form.Get("Version") != ec2Version) {
		return nil, false
	}
	if region == "" {
		region = "us-east-1"
	}
	return &request{action: form.Get("Action"), region: region, form: form, header: r.Header}, true
}

func (p *proxy) serveEC2(w http.ResponseWriter, hr *http.Request, r *request) {
	ctx := hr.Context()
	p.inflight.Add(1)
	defer p.inflight.Add(-1)
	p.stats.request(r.region, r.action)
	var seen Request
	if p.intercept != nil {
		seen = p.intercept.arrive(r)
		if p.intercept.judge(w, seen, BeforeForward) {
			return
		}
	}
	if p.s.Latency > 0 {
		select {
		case <-time.After(p.s.Latency):
		case <-ctx.Done():
			return
		}
	}
	if err := p.admit(r); err != nil {
		writeError(w, err)
		return
	}
	// Like a real endpoint, carry out a request that has arrived even if
	// its client goes away meanwhile (WaitIdle relies on this), within a
	// bound.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestBound(r))
	defer cancel()
	h := p.hooks[r.action]
	if h.before != nil {
		resp, err := h.before(ctx, r)
		if err != nil {
			writeError(w, err)
			return
		}
		if resp != nil {
			if p.intercept != nil && p.intercept.judge(w, seen, AfterResponse) {
				return
			}
			writeXML(w, resp.bytes())
			return
		}
	}
	status, body, err := p.send(ctx, r)
	if err != nil {
		p.log.Error("forward to moto", "action", r.action, "error", err)
		writeError(w, &apiError{http.StatusBadGateway, "InternalError", err.Error()})
		return
	}
	if p.intercept != nil && p.intercept.judge(w, seen, AfterResponse) {
		return
	}
	if status != http.StatusOK || h.after == nil {
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	tree, perr := parseXML(body)
	if perr != nil {
		p.log.Error("parse moto response", "action", r.action, "error", perr)
		writeXML(w, body)
		return
	}
	h.after(ctx, r, tree)
	writeXML(w, tree.bytes())
}

// admit applies throttling, injected faults and eventual consistency.
func (p *proxy) admit(r *request) *apiError {
	if p.s.Throttle && !p.throttle.allow(r) {
		p.stats.throttled()
		return errThrottled
	}
	if p.world.chance(p.s.FaultRate) {
		p.stats.fault()
		return errInternal
	}
	for _, name := range []string{"InstanceId", "ImageId", "SnapshotId", "ResourceId"} {
		for _, id := range r.values(name) {
			if p.world.invisible(r.region, id) {
				return errNotFound(id)
			}
		}
	}
	return nil
}

// send forwards r (with its possibly edited form) to moto.
func (p *proxy) send(ctx context.Context, r *request) (int, []byte, error) {
	body := r.form.Encode()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.moto.String()+"/", strings.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("build %s request: %w", r.action, err)
	}
	for _, k := range []string{"Authorization", "X-Amz-Date", "User-Agent", "X-Amz-Security-Token"} {
		if v := r.header.Get(k); v != "" {
			hr.Header.Set(k, v)
		}
	}
	if hr.Header.Get("Authorization") == "" {
		hr.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20200101/"+r.region+"/ec2/aws4_request, SignedHeaders=host, Signature=0")
	}
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	hr.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp, err := p.client.Do(hr)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", r.action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s response: %w", r.action, err)
	}
	return resp.StatusCode, b, nil
}

// call makes an internal EC2 call to moto, bypassing the layer's faults.
func (p *proxy) call(ctx context.Context, region string, form url.Values) (*node, error) {
	form.Set("Version", ec2Version)
	r := &request{action: form.Get("Action"), region: region, form: form, header: http.Header{}}
	status, body, err := p.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		tree, perr := parseXML(body)
		if perr == nil {
			if e := tree.path("Errors", "Error"); e != nil {
				return nil, &apiError{status, e.value("Code"), e.value("Message")}
			}
		}
		return nil, fmt.Errorf("%s in %s: moto answered %d", r.action, region, status)
	}
	return parseXML(body)
}

// requestBound is how long the cloud works on one request: a minute, or
// ten for the requests that read a whole bundle from S3 (RegisterImage of
// a manifest, CopyImage of an instance-store image), which take minutes
// on a loaded machine or under the race detector.
func requestBound(r *request) time.Duration {
	switch {
	case r.action == "RegisterImage" && r.form.Get("ImageLocation") != "", r.action == "CopyImage":
		return 10 * time.Minute
	}
	return time.Minute
}

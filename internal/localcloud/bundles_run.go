package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/imgbuild/imgbuild/internal/bundle"
	"github.com/imgbuild/imgbuild/internal/rootfs"
)

// taskError is how a bundle task fails: its error code and message.
type taskError struct{ code, message string }

func (e *taskError) Error() string { return e.code + ": " + e.message }

// runBundleTask carries a task through its states. ctx ends when the task
// is cancelled or the cloud closes.
func (p *proxy) runBundleTask(ctx context.Context, t *bundleTask) {
	stopped := false
	work := func() error {
		if err := sleepCtx(ctx, p.jittered(p.s.Bundle/10)); err != nil {
			return err
		}
		p.bundles.phase(t, taskWaiting, 0, 0, 0)
		if err := p.stopForBundle(ctx, t.region, t.instance); err != nil {
			return err
		}
		stopped = true
		p.bundles.phase(t, taskBundling, 0, 70, p.jittered(p.s.Bundle*6/10))
		made, err := p.bundleDisk(ctx, t)
		if err != nil {
			return err
		}
		defer os.RemoveAll(made.dir)
		if err := p.bundles.phaseDone(ctx, t); err != nil {
			return err
		}
		if p.failBundle(t) {
			return &taskError{"Server.InternalError", "Server.InternalError: injected bundle failure (local cloud fail-bundles setting)"}
		}
		p.bundles.phase(t, taskStoring, 70, 99, p.jittered(p.s.Bundle*3/10))
		if err := p.storeBundle(ctx, t, made); err != nil {
			return err
		}
		return p.bundles.phaseDone(ctx, t)
	}
	err := work()
	if p.bundles.run.Err() != nil {
		return // the cloud is closing
	}
	if stopped {
		// Like EC2, start the instance again, even after a failure or a
		// cancel (whose ctx has ended).
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		p.startAfterBundle(sctx, t.region, t.instance)
		cancel()
	}
	p.bundles.finish(t, err, p.world.now())
	var te *taskError
	switch {
	case errors.As(err, &te):
		p.log.Info("bundle task failed", "bundle", t.id, "instance", t.instance, "region", t.region, "error", err)
	case err != nil && !errors.Is(err, context.Canceled):
		p.log.Warn("bundle task failed", "bundle", t.id, "instance", t.instance, "region", t.region, "error", err)
	}
}

// phase moves a task to state; its progress then rises from lo to hi
// over at least least (and with its work). A cancelled task stays
// cancelling.
func (b *bundles) phase(t *bundleTask, state string, lo, hi int, least time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.cancelled {
		return
	}
	now := time.Now()
	t.state, t.update, t.phaseStart, t.phaseMin, t.lo, t.hi, t.work = state, now, now, least, lo, hi, 0
}

// setWork records how much of the current phase's work is done (0..1).
func (b *bundles) setWork(t *bundleTask, done float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t.work = done
}

// phaseDone marks the phase's work done and waits out its least time.
func (b *bundles) phaseDone(ctx context.Context, t *bundleTask) error {
	b.mu.Lock()
	t.work = 1
	left := time.Until(t.phaseStart.Add(t.phaseMin))
	b.mu.Unlock()
	return sleepCtx(ctx, left)
}

// finish ends a task: complete, or failed with err's code and message.
func (b *bundles) finish(t *bundleTask, err error, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil && !t.cancelled {
		t.state, t.update = taskComplete, now
		return
	}
	if !t.cancelled {
		t.frozen = t.progress(now)
	}
	t.state, t.update = taskFailed, now
	var te *taskError
	switch {
	case t.cancelled:
		t.errCode, t.errMsg = "Client.Cancelled", "The bundle task was cancelled (CancelBundleTask)."
	case errors.As(err, &te):
		t.errCode, t.errMsg = te.code, te.message
	default:
		t.errCode, t.errMsg = "Server.InternalError", "Server.InternalError: "+err.Error()
	}
}

// failBundle reports whether the fail-bundles setting fails the task.
func (p *proxy) failBundle(t *bundleTask) bool {
	glob := p.s.FailBundles
	if glob == "" {
		return false
	}
	subject := t.prefix
	if strings.Contains(glob, "/") {
		subject = t.bucket + "/" + t.prefix
	}
	ok, _ := path.Match(glob, subject)
	return ok
}

// stopForBundle stops the instance as StopInstances does and waits until
// it is stopped.
func (p *proxy) stopForBundle(ctx context.Context, region, id string) error {
	if _, err := p.call(ctx, region, url.Values{"Action": {"StopInstances"}, "InstanceId.1": {id}}); err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	p.world.instanceTransition(region, id, "stopping", p.s.Stop)
	p.machines.halt(region, id)
	for {
		if state, ok := p.world.instanceState(region, id); !ok || state != "stopping" {
			return nil
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// startAfterBundle starts the instance again as StartInstances does,
// unless it is no longer stopped or its termination was asked for
// (terminated while it was bundled, or as the task was cancelled). It
// holds the restart lock throughout, which a TerminateInstances takes
// before it reaches moto: moto starts even a terminated instance, so a
// start must never pass a termination.
func (p *proxy) startAfterBundle(ctx context.Context, region, id string) {
	p.bundles.restart.Lock()
	defer p.bundles.restart.Unlock()
	if state := p.instanceStateNow(ctx, region, id); state != "stopped" || p.bundles.wasTerminated(region, id) {
		p.log.Info("not starting an instance again after bundling it", "instance", id, "region", region, "state", state)
		return
	}
	if _, err := p.call(ctx, region, url.Values{"Action": {"StartInstances"}, "InstanceId.1": {id}}); err != nil {
		p.log.Error("start an instance again after bundling it", "instance", id, "region", region, "error", err)
		return
	}
	p.world.instanceTransition(region, id, "pending", p.s.Boot)
	if err := p.machines.boot(ctx, region, id); err != nil {
		p.log.Error("boot an instance again after bundling it", "instance", id, "region", region, "error", err)
	}
}

// madeBundle is a bundle on disk: its parts in dir and its manifest.
type madeBundle struct {
	dir string
	m   *bundle.Manifest
}

// bundleDisk bundles the instance's disk: a tar stream of the tree
// (rootfs.TarDir), an ext4 image of it (rootfs.Image), bundled with the
// cloud's key as both EC2's and the user's (bundle.Write), its parts kept
// in a temporary directory until they are stored.
func (p *proxy) bundleDisk(ctx context.Context, t *bundleTask) (*madeBundle, error) {
	k, err := p.bundles.cloudKey()
	if err != nil {
		return nil, err
	}
	tree, cleanup, err := p.machines.diskTree(t.region, t.instance)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	dir, err := os.MkdirTemp(p.machines.state, ".bundle-task-")
	if err != nil {
		return nil, err
	}
	img, size, err := imageOf(ctx, tree, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer img.Close()
	defer os.Remove(img.Name())
	o := bundle.Options{Name: path.Base(t.prefix), Account: motoAccount, UserCert: k.cert, UserKey: k.key, EC2Cert: k.cert,
		Progress: func(pr bundle.Progress) {
			if pr.ImageSize > 0 {
				p.bundles.setWork(t, float64(pr.ImageBytes)/float64(pr.ImageSize))
			}
		}}
	m, err := bundle.Write(ctx, img, size, o, func(_ context.Context, part bundle.Part) error {
		return os.WriteFile(filepath.Join(dir, part.Name), part.Data, 0o600)
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bundle the disk of %s: %w", t.instance, err)
	}
	p.bundles.mu.Lock()
	p.bundles.windows[m.Digest] = true
	p.bundles.mu.Unlock()
	return &madeBundle{dir: dir, m: m}, nil
}

// imageOf makes an ext4 image of the tree under dir in a temporary file
// in tmp.
func imageOf(ctx context.Context, tree, tmp string) (*os.File, int64, error) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(rootfs.TarDir(ctx, tree, pw))
	}()
	f, size, err := rootfs.Image(ctx, pr, tmp, nil)
	pr.CloseWithError(errors.New("image made"))
	<-done
	if err != nil {
		return nil, 0, fmt.Errorf("make an image of the disk: %w", err)
	}
	return f, size, nil
}

// diskTree returns a directory holding the tree of a Windows instance's
// disk (its own files over its image's layers) and a function removing
// what it made; an instance without a guest has an empty disk.
func (m *machines) diskTree(region, id string) (string, func(), error) {
	var upper string
	var lowers []string
	if w, mc := m.windowsOf(region, id); w != nil {
		stack, _ := m.store.Stack(instanceHolder(region, id))
		upper, lowers = filepath.Join(mc.dir, "disk"), m.store.Lowers(stack, "")
	}
	if upper != "" && len(lowers) == 0 {
		return upper, func() {}, nil
	}
	tmp, err := os.MkdirTemp(m.state, ".bundle-disk-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	// The winguest disk has no whiteouts: copying the layers bottom first,
	// then the instance's own files, gives the tree the guest sees.
	dirs := append([]string(nil), lowers...)
	for i, j := 0, len(dirs)-1; i < j; i, j = i+1, j-1 {
		dirs[i], dirs[j] = dirs[j], dirs[i]
	}
	if upper != "" {
		dirs = append(dirs, upper)
	}
	for _, d := range dirs {
		if out, err := exec.Command("cp", "-a", d+"/.", tmp+"/").CombinedOutput(); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("copy the disk %s: %v: %s", d, err, strings.TrimSpace(string(out)))
		}
	}
	return tmp, cleanup, nil
}

// storeBundle puts the parts, then the manifest, in the task's bucket
// (creating it in the task's region when it does not exist).
func (p *proxy) storeBundle(ctx context.Context, t *bundleTask, b *madeBundle) error {
	if err := p.s3EnsureBucket(ctx, t.region, t.bucket); err != nil {
		return &taskError{"Client.InvalidParameterValue", err.Error()}
	}
	for i, part := range b.m.Parts {
		data, err := os.ReadFile(filepath.Join(b.dir, part.Name))
		if err != nil {
			return err
		}
		if err := p.s3Put(ctx, t.region, t.bucket, t.key(part.Name), data); err != nil {
			return err
		}
		p.bundles.setWork(t, float64(i+1)/float64(len(b.m.Parts)+1))
	}
	return p.s3Put(ctx, t.region, t.bucket, t.key(path.Base(t.prefix)+".manifest.xml"), b.m.Bytes())
}

// jittered returns d varied by the jitter setting.
func (p *proxy) jittered(d time.Duration) time.Duration {
	p.world.mu.Lock()
	defer p.world.mu.Unlock()
	return p.world.due(d).Sub(p.world.now())
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// instanceStateNow is the state the cloud shows for an instance ("" when
// it cannot tell).
func (p *proxy) instanceStateNow(ctx context.Context, region, id string) string {
	if state, ok := p.world.instanceState(region, id); ok {
		return state
	}
	resp, err := p.call(ctx, region, url.Values{"Action": {"DescribeInstances"}, "InstanceId.1": {id}})
	if err != nil {
		return ""
	}
	for _, res := range resp.items("reservationSet") {
		for _, item := range res.items("instancesSet") {
			if n := item.path("instanceState", "name"); n != nil {
				return n.text
			}
		}
	}
	return ""
}

package localcloud

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"time"
)

// BundleInstance, DescribeBundleTasks and CancelBundleTask (moto has
// none). A task goes pending, waiting-for-shutdown (the layer stops the
// instance), bundling (a real bundle of the guest's disk, made with the
// cloud's key, progress rising), storing (parts, then the manifest, put in
// the bucket, which EC2 creates when it does not exist), complete; the
// instance is started again at the end, whatever the outcome. The bundle
// setting is the least time pending, bundling and storing take together
// (10%, 60% and 30% of it); the instance's stop takes the stop setting. A
// task whose prefix matches the fail-bundles glob fails after bundling,
// storing nothing. CancelBundleTask moves a task that has not ended to
// cancelling, then failed; what was stored stays (see doc.go).

// Bundle task states, as EC2 names them.
const (
	taskPending    = "pending"
	taskWaiting    = "waiting-for-shutdown"
	taskBundling   = "bundling"
	taskStoring    = "storing"
	taskCancelling = "cancelling"
	taskComplete   = "complete"
	taskFailed     = "failed"
)

// bundleTask is one BundleInstance task; bundles.mu guards its fields.
type bundleTask struct {
	id, region, instance                         string
	bucket, prefix, accessKey, policy, signature string

	state         string
	start, update time.Time
	// The progress shown rises from lo to hi during a phase as both the
	// time (towards phaseMin) and the work (0..1) advance.
	phaseStart time.Time
	phaseMin   time.Duration
	lo, hi     int
	work       float64
	frozen     int // the progress of a failed or cancelling task
	errCode    string
	errMsg     string
	cancelled  bool
	cancel     context.CancelFunc
}

// ended reports whether the task is over (or being cancelled).
func (t *bundleTask) ended() bool {
	return t.state == taskComplete || t.state == taskFailed || t.state == taskCancelling
}

// progress returns the percentage shown at now; the caller holds mu.
func (t *bundleTask) progress(now time.Time) int {
	switch t.state {
	case taskComplete:
		return 100
	case taskFailed, taskCancelling:
		return t.frozen
	}
	frac := t.work
	if t.phaseMin > 0 {
		frac = min(frac, float64(now.Sub(t.phaseStart))/float64(t.phaseMin))
	}
	return t.lo + int(float64(t.hi-t.lo)*min(max(frac, 0), 1))
}

// taskTime is how EC2 writes a bundle task's times.
const taskTime = "2006-01-02T15:04:05.000Z"

// node renders the task as EC2's BundleTask element named name.
func (t *bundleTask) node(name string, now time.Time) *node {
	n := &node{name: name}
	n.set("instanceId", t.instance)
	n.set("bundleId", t.id)
	n.set("state", t.state)
	n.set("startTime", t.start.UTC().Format(taskTime))
	n.set("updateTime", t.update.UTC().Format(taskTime))
	s3 := n.set("storage", "").set("S3", "")
	s3.set("bucket", t.bucket)
	s3.set("prefix", t.prefix)
	s3.set("AWSAccessKeyId", t.accessKey)
	s3.set("uploadPolicy", t.policy)
	s3.set("uploadPolicySignature", t.signature)
	n.set("progress", fmt.Sprintf("%d%%", t.progress(now)))
	if t.errCode != "" {
		e := n.set("error", "")
		e.set("code", t.errCode)
		e.set("message", t.errMsg)
	}
	return n
}

// taskFilters are DescribeBundleTasks' filters and the value each tests.
var taskFilters = map[string]func(t *bundleTask, now time.Time) string{
	"bundle-id":     func(t *bundleTask, _ time.Time) string { return t.id },
	"error-code":    func(t *bundleTask, _ time.Time) string { return t.errCode },
	"error-message": func(t *bundleTask, _ time.Time) string { return t.errMsg },
	"instance-id":   func(t *bundleTask, _ time.Time) string { return t.instance },
	"progress":      func(t *bundleTask, now time.Time) string { return fmt.Sprintf("%d%%", t.progress(now)) },
	"s3-bucket":     func(t *bundleTask, _ time.Time) string { return t.bucket },
	"s3-prefix":     func(t *bundleTask, _ time.Time) string { return t.prefix },
	"start-time":    func(t *bundleTask, _ time.Time) string { return t.start.UTC().Format(taskTime) },
	"state":         func(t *bundleTask, _ time.Time) string { return t.state },
	"update-time":   func(t *bundleTask, _ time.Time) string { return t.update.UTC().Format(taskTime) },
}

var errDryRun = &apiError{http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."}

func missingParameter(name string) *apiError {
	return &apiError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter " + name}
}

// bundleInstance answers BundleInstance: it checks the instance and the
// upload policy, and starts the task.
func (p *proxy) bundleInstance(ctx context.Context, r *request) (*node, *apiError) {
	t := &bundleTask{region: r.region, instance: r.form.Get("InstanceId"),
		bucket: r.form.Get("Storage.S3.Bucket"), prefix: r.form.Get("Storage.S3.Prefix"),
		accessKey: r.form.Get("Storage.S3.AWSAccessKeyId"), policy: r.form.Get("Storage.S3.UploadPolicy"),
		signature: r.form.Get("Storage.S3.UploadPolicySignature")}
	for _, name := range []string{"InstanceId", "Storage.S3.Bucket", "Storage.S3.Prefix", "Storage.S3.AWSAccessKeyId",
		"Storage.S3.UploadPolicy", "Storage.S3.UploadPolicySignature"} {
		if r.form.Get(name) == "" {
			return nil, missingParameter(name)
		}
	}
	if aerr := p.checkBundleable(ctx, r.region, t.instance); aerr != nil {
		return nil, aerr
	}
	if aerr := checkUploadPolicy(t.accessKey, t.policy, t.signature, t.bucket, t.prefix, p.world.now()); aerr != nil {
		return nil, aerr
	}
	if r.form.Get("DryRun") == "true" {
		return nil, errDryRun
	}
	ctx, t.cancel = context.WithCancel(p.bundles.run)
	if aerr := p.bundles.addTask(t, p.world.now()); aerr != nil {
		t.cancel()
		return nil, aerr
	}
	p.bundles.wg.Add(1)
	go func() {
		defer p.bundles.wg.Done()
		p.runBundleTask(ctx, t)
	}()
	return okResponse("BundleInstance", p.bundles.taskNode(t, "bundleInstanceTask", p.world.now())), nil
}

// checkBundleable refuses an instance EC2 would not bundle: one that
// does not exist, is not Windows (the API reference's error codes:
// InvalidInstanceType, "you can only bundle instance store-backed Windows
// instances"; the cloud also bundles EBS-backed ones, see doc.go) or is
// not running.
func (p *proxy) checkBundleable(ctx context.Context, region, id string) *apiError {
	resp, err := p.call(ctx, region, url.Values{"Action": {"DescribeInstances"}, "InstanceId.1": {id}})
	if ae, ok := err.(*apiError); ok {
		return ae
	} else if err != nil {
		return &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	var item *node
	for _, res := range resp.items("reservationSet") {
		if is := res.items("instancesSet"); len(is) > 0 {
			item = is[0]
		}
	}
	if item == nil {
		return errNotFound(id)
	}
	inst := p.bundles.instance(region, id)
	if item.value("platform") != "windows" && (inst == nil || !inst.windows) {
		return &apiError{http.StatusBadRequest, "InvalidInstanceType",
			fmt.Sprintf("The instance %s is not a Windows instance: only Windows instances can be bundled.", id)}
	}
	state, ok := p.world.instanceState(region, id)
	if !ok {
		state = item.path("instanceState", "name").text
	}
	if state != "running" {
		return &apiError{http.StatusBadRequest, "IncorrectInstanceState",
			fmt.Sprintf("The instance '%s' is not in a state from which it can be bundled (it is %s).", id, state)}
	}
	return nil
}

// addTask gives t an ID and records it, unless its instance has a task
// in progress.
func (b *bundles) addTask(t *bundleTask, now time.Time) *apiError {
	var raw [4]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return &apiError{http.StatusInternalServerError, "InternalError", err.Error()}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range b.tasks {
		if o.region == t.region && o.instance == t.instance && !o.ended() {
			return &apiError{http.StatusBadRequest, "BundlingInProgress",
				fmt.Sprintf("The instance %s already has a bundling task in progress (%s).", t.instance, o.id)}
		}
	}
	t.id = "bun-" + hex.EncodeToString(raw[:])
	t.state, t.start, t.update, t.phaseStart = taskPending, now, now, now
	b.tasks[t.region+"/"+t.id] = t
	return nil
}

// taskNode renders a task under mu.
func (b *bundles) taskNode(t *bundleTask, name string, now time.Time) *node {
	b.mu.Lock()
	defer b.mu.Unlock()
	return t.node(name, now)
}

// describeBundleTasks answers DescribeBundleTasks: the region's tasks
// (all of them, as long as the cloud runs), by BundleId.N and Filter.N.
func (p *proxy) describeBundleTasks(_ context.Context, r *request) (*node, *apiError) {
	if r.form.Get("DryRun") == "true" {
		return nil, errDryRun
	}
	filters := r.filtersOf()
	for _, f := range filters {
		if taskFilters[f.name] == nil {
			return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", f.name)}
		}
	}
	now := p.world.now()
	p.bundles.mu.Lock()
	defer p.bundles.mu.Unlock()
	var tasks []*bundleTask
	if ids := r.values("BundleId"); len(ids) > 0 {
		for _, id := range ids {
			t := p.bundles.tasks[r.region+"/"+id]
			if t == nil {
				return nil, &apiError{http.StatusBadRequest, "InvalidBundleID.NotFound", fmt.Sprintf("The bundle ID '%s' does not exist", id)}
			}
			tasks = append(tasks, t)
		}
	} else {
		for _, t := range p.bundles.tasks {
			if t.region == r.region {
				tasks = append(tasks, t)
			}
		}
		sort.Slice(tasks, func(i, j int) bool { return tasks[i].start.Before(tasks[j].start) })
	}
	set := &node{name: "bundleInstanceTasksSet"}
	for _, t := range tasks {
		if taskMatches(t, filters, now) {
			set.children = append(set.children, t.node("item", now))
		}
	}
	return okResponse("DescribeBundleTasks", set), nil
}

func taskMatches(t *bundleTask, filters []filter, now time.Time) bool {
	for _, f := range filters {
		got, ok := taskFilters[f.name](t, now), false
		for _, v := range f.values {
			if wildcard(v).MatchString(got) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// cancelBundleTask answers CancelBundleTask: a task that has not ended
// goes to cancelling (its goroutine stops, starts the instance again and
// marks it failed); cancelling one already cancelling answers it as it
// is; a complete or failed one cannot be cancelled.
func (p *proxy) cancelBundleTask(_ context.Context, r *request) (*node, *apiError) {
	id := r.form.Get("BundleId")
	if id == "" {
		return nil, missingParameter("BundleId")
	}
	now := p.world.now()
	p.bundles.mu.Lock()
	defer p.bundles.mu.Unlock()
	t := p.bundles.tasks[r.region+"/"+id]
	switch {
	case t == nil:
		return nil, &apiError{http.StatusBadRequest, "InvalidBundleID.NotFound", fmt.Sprintf("The bundle ID '%s' does not exist", id)}
	case t.state == taskComplete || t.state == taskFailed:
		return nil, &apiError{http.StatusBadRequest, "IncorrectState",
			fmt.Sprintf("The bundle task %s is %s and can no longer be cancelled.", id, t.state)}
	case r.form.Get("DryRun") == "true":
		return nil, errDryRun
	case t.state != taskCancelling:
		t.frozen = t.progress(now)
		t.state, t.update, t.cancelled = taskCancelling, now, true
		t.cancel()
	}
	return okResponse("CancelBundleTask", t.node("bundleInstanceTask", now)), nil
}

// key returns the key of the task's object named name (a part or the
// manifest): beside the prefix, which may have a directory.
func (t *bundleTask) key(name string) string {
	if dir := path.Dir(t.prefix); dir != "." {
		return dir + "/" + name
	}
	return name
}

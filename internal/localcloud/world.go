package localcloud

import (
	"math/rand"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Instance state codes and names as EC2 reports them.
var stateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

// instance is what the layer knows about one instance beyond moto.
type instance struct {
	shown string    // transitional state reported until "until"
	until time.Time // when moto's own state becomes visible
	// drawn holds the duration drawn for each transitional state
	// ("pending", "stopping", "shutting-down"), for the critical path.
	drawn map[string]time.Duration
}

// image is what the layer knows about one image beyond moto.
type image struct {
	start       time.Time // when it was created
	until       time.Time // pending until then
	from        string    // region/ID of the instance (CreateImage) or source image (CopyImage)
	failed      bool      // ends in state failed
	deprecateAt string    // DeprecationTime, "" when not deprecated
	protection  string    // DeregistrationProtection, "" = disabled
	cooldownEnd time.Time // protection lasts until then after a disable with cooldown
}

// world tracks timings and extra state, keyed by "region/id".
type world struct {
	mu        sync.Mutex
	s         Settings
	rng       *rand.Rand
	instances map[string]*instance
	images    map[string]*image
	born      map[string]time.Time // creation time of new IDs
	tokens    map[string]string    // region/action/ClientToken -> what it made (IDs, comma-separated)
	snapImage map[string]string    // region/snapshot -> region/image being made from it
	now       func() time.Time
}

func newWorld(s Settings) *world {
	seed := s.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	return &world{
		s: s, rng: rand.New(rand.NewSource(seed)), now: time.Now,
		instances: map[string]*instance{}, images: map[string]*image{},
		born: map[string]time.Time{}, tokens: map[string]string{}, snapImage: map[string]string{},
	}
}

// due returns now plus d with jitter applied; the caller holds mu.
func (w *world) due(d time.Duration) time.Time {
	if d > 0 && w.s.Jitter > 0 {
		d = time.Duration(float64(d) * (1 + w.s.Jitter*(2*w.rng.Float64()-1)))
	}
	return w.now().Add(d)
}

// chance reports true with probability p.
func (w *world) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rng.Float64() < p
}

// created records a new ID for the eventual-consistency window.
func (w *world) created(region, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.born[region+"/"+id] = w.now()
}

// invisible reports whether id is still inside its consistency window.
func (w *world) invisible(region, id string) bool {
	if w.s.Consistency <= 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.born[region+"/"+id]
	return ok && w.now().Sub(t) < w.s.Consistency
}

// instanceTransition starts a transitional state lasting d.
func (w *world) instanceTransition(region, id, shown string, d time.Duration) *instance {
	w.mu.Lock()
	defer w.mu.Unlock()
	in := w.instances[region+"/"+id]
	if in == nil {
		in = &instance{}
		w.instances[region+"/"+id] = in
	}
	in.shown, in.until = shown, w.due(d)
	if in.drawn == nil {
		in.drawn = map[string]time.Duration{}
	}
	in.drawn[shown] = in.until.Sub(w.now())
	return in
}

// instanceState returns the state to report instead of moto's, if any.
func (w *world) instanceState(region, id string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	in := w.instances[region+"/"+id]
	if in == nil || !w.now().Before(in.until) {
		return "", false
	}
	return in.shown, true
}

// instance returns the record of an instance (nil when unknown).
func (w *world) instance(region, id string) *instance {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.instances[region+"/"+id]
}

// newImage records an image created now that takes d to become available.
// from is the region/ID of the instance or source image it is made from.
func (w *world) newImage(region, id, name, from string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	failed := false
	if w.s.FailImages != "" {
		subject := name
		if strings.Contains(w.s.FailImages, "/") {
			subject = region + "/" + name // "eu-west-1/*" fails copies to one region
		}
		failed, _ = path.Match(w.s.FailImages, subject)
	}
	w.images[region+"/"+id] = &image{start: w.now(), until: w.due(d), failed: failed, from: from}
}

// image runs fn on the record of an image, creating one for images the
// layer did not see being created (such as moto's built-in AMIs).
func (w *world) image(region, id string, fn func(*image)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	im := w.images[region+"/"+id]
	if im == nil {
		im = &image{}
		w.images[region+"/"+id] = im
	}
	fn(im)
}

// imageState returns the state to report for an image, or "" for moto's.
func (w *world) imageState(region, id string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	im := w.images[region+"/"+id]
	switch {
	case im == nil:
		return ""
	case w.now().Before(im.until):
		return "pending"
	case im.failed:
		return "failed"
	}
	return ""
}

// protected reports whether an image may not be deregistered now.
func (w *world) protected(region, id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	im := w.images[region+"/"+id]
	return im != nil && (im.protection != "" || w.now().Before(im.cooldownEnd))
}

// madeFor returns what an action's ClientToken already made (CopyImage:
// the image; RunInstances: the instances).
func (w *world) madeFor(region, action, token string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids, ok := w.tokens[region+"/"+action+"/"+token]
	return ids, ok
}

func (w *world) rememberToken(region, action, token, ids string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokens[region+"/"+action+"/"+token] = ids
}

func stateCode(name string) string { return strconv.Itoa(stateCodes[name]) }

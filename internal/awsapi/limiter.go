package awsapi

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a client-side set of token buckets, one per service, region and
// action, that every request attempt waits on before it is sent. One Limiter
// shared by every Session in the process keeps parallel builds inside the
// account's EC2 request budget instead of each build discovering throttling
// on its own (packer.md 6, row 7). It is safe for concurrent use.
type Limiter struct {
	buckets func(service, action string, unfiltered bool) (Bucket, bool)

	mu      sync.Mutex
	entries map[limitKey]*limitEntry
}

type limitKey struct {
	service, region, action string
}

type limitEntry struct {
	bucket    Bucket
	limiter   *rate.Limiter
	requests  atomic.Int64
	throttled atomic.Int64
	waited    atomic.Int64 // nanoseconds
}

// Counts are a Limiter's counters, for benchmarks and the debug log.
type Counts struct {
	// Requests is the number of attempts sent, retries included.
	Requests int64
	// Throttled is the number of attempts AWS answered with a throttling error.
	Throttled int64
	// Waited is the total time attempts spent waiting for a token.
	Waited time.Duration
}

func (c *Counts) add(e *limitEntry) {
	c.Requests += e.requests.Load()
	c.Throttled += e.throttled.Load()
	c.Waited += time.Duration(e.waited.Load())
}

// processLimiter is shared by every Session that is not given its own.
var processLimiter = NewLimiter()

// ProcessLimiter returns the Limiter that Sessions use unless WithLimiter
// says otherwise, shared by all builds in the process.
func ProcessLimiter() *Limiter { return processLimiter }

// NewLimiter returns a Limiter seeded with EC2's documented buckets (see
// EC2Bucket). Other services are not limited client-side; their requests are
// still counted.
func NewLimiter() *Limiter {
	return &Limiter{buckets: defaultBuckets, entries: map[limitKey]*limitEntry{}}
}

func defaultBuckets(service, action string, unfiltered bool) (Bucket, bool) {
	if service != "EC2" {
		return Bucket{Name: "unlimited", Refill: rate.Inf}, false
	}
	return EC2Bucket(action, unfiltered), true
}

// entry returns the bucket for one service, region and action, creating it
// full on first use.
func (l *Limiter) entry(service, region, action string, unfiltered bool) *limitEntry {
	b, _ := l.buckets(service, action, unfiltered)
	key := limitKey{service, region, action}
	if unfiltered && b == bucketUnfiltered {
		key.action += " (unfiltered)"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		e = &limitEntry{bucket: b, limiter: rate.NewLimiter(b.Refill, b.Burst)}
		l.entries[key] = e
	}
	return e
}

// Wait blocks until the bucket for service, region and action has a token,
// or ctx is done. It counts the request.
func (l *Limiter) Wait(ctx context.Context, service, region, action string, unfiltered bool) error {
	_, err := l.wait(ctx, service, region, action, unfiltered)
	return err
}

func (l *Limiter) wait(ctx context.Context, service, region, action string, unfiltered bool) (*limitEntry, error) {
	e := l.entry(service, region, action, unfiltered)
	start := time.Now()
	err := e.limiter.Wait(ctx)
	e.waited.Add(int64(time.Since(start)))
	if err != nil {
		return e, fmt.Errorf("wait for %s %s request token in %s: %w", service, action, region, err)
	}
	e.requests.Add(1)
	return e, nil
}

// BucketFor returns the kind of bucket that requests for service and action
// wait on; ok is false when the service is not limited client-side.
func (l *Limiter) BucketFor(service, action string, unfiltered bool) (b Bucket, ok bool) {
	return l.buckets(service, action, unfiltered)
}

// Counts returns the counters summed over every bucket.
func (l *Limiter) Counts() Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c Counts
	for _, e := range l.entries {
		c.add(e)
	}
	return c
}

// CountsFor returns the counters for one service, region and action
// (unfiltered Describe calls included).
func (l *Limiter) CountsFor(service, region, action string) Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c Counts
	for k, e := range l.entries {
		if k.service == service && k.region == region &&
			(k.action == action || k.action == action+" (unfiltered)") {
			c.add(e)
		}
	}
	return c
}

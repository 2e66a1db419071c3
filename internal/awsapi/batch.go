package awsapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ErrWaitsClosed ends the waits still pending when their WaitBatches is
// closed.
var ErrWaitsClosed = errors.New("waits closed")

// WaitBatches runs the polls of the typed waits in batches: one loop per
// EC2 endpoint, credentials and region, started by the first wait
// registered there and ended when no wait is left there (or by Close).
// Each tick of a loop describes every pending ID of a kind (images,
// instances, snapshots) in one call, whichever build the wait belongs to,
// so N concurrent waits in a region cost one Describe per tick instead of
// N. It is safe for concurrent use.
type WaitBatches struct {
	mu     sync.Mutex
	loops  map[batchKey]*batcher
	closed bool
}

// NewWaitBatches returns an empty WaitBatches.
func NewWaitBatches() *WaitBatches {
	return &WaitBatches{loops: map[batchKey]*batcher{}}
}

var processBatches = NewWaitBatches()

// ProcessWaitBatches returns the WaitBatches every Waiter uses unless its
// Batches field says otherwise, so the waits of all builds in the process
// share their Describe calls.
func ProcessWaitBatches() *WaitBatches { return processBatches }

// Close stops every loop, ending the waits still pending with
// ErrWaitsClosed, and returns when the loops have exited. Later waits fail
// at once.
func (bs *WaitBatches) Close() {
	bs.mu.Lock()
	bs.closed = true
	var loops []*batcher
	for _, b := range bs.loops {
		b.cancel()
		loops = append(loops, b)
	}
	bs.mu.Unlock()
	for _, b := range loops {
		<-b.done
	}
}

// loopCount returns the number of running loops.
func (bs *WaitBatches) loopCount() int {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return len(bs.loops)
}

// batchKey says which waits may share a Describe call.
type batchKey struct {
	who    any // a hash of endpoint and access key, or the describer itself
	region string
}

// kind is the resource type a watch waits for.
type kind int

const (
	kindInstance kind = iota
	kindImage
	kindSnapshot
	kinds
)

// watch is one pending wait registered with a batcher.
type watch struct {
	kind    kind
	id      string
	cadence Cadence
	start   time.Time
	due     time.Time // when the wait wants its next check
	// progress asks image ticks to describe the image's snapshots too.
	progress bool
	// mem is what the loop remembers of an image watch between ticks.
	mem progressMemory
	// out holds the latest observation not yet read; the loop replaces
	// an unread one.
	out chan observation
}

func newWatch(k kind, id string, c Cadence) *watch {
	now := time.Now()
	return &watch{kind: k, id: id, cadence: c, start: now, due: now.Add(c.First),
		out: make(chan observation, 1)}
}

// observation is what one tick saw of a watch's resource.
type observation struct {
	err      error // the Describe call failed
	found    bool
	image    types.Image
	instance types.Instance
	snapshot types.Snapshot
	// snapshots are the image's snapshots, for progress watches.
	snapshots []types.Snapshot
}

// deliver hands o to w, replacing an observation w has not read yet.
func (w *watch) deliver(o observation) {
	select {
	case <-w.out:
	default:
	}
	w.out <- o
}

// register adds w to the loop of c's endpoint, credentials and region,
// starting the loop if there is none, and returns the function that
// removes w again.
func (bs *WaitBatches) register(ctx context.Context, c EC2Describer, region string, w *watch) (func(), error) {
	key, err := describerKey(ctx, c, region)
	if err != nil {
		return nil, err
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.closed {
		return nil, ErrWaitsClosed
	}
	b := bs.loops[key]
	if b == nil {
		b = newBatcher(c, key)
		bs.loops[key] = b
		lctx, cancel := context.WithCancel(context.Background())
		b.cancel = cancel
		go b.run(lctx, bs)
	}
	b.watches[w] = struct{}{}
	b.signal()
	return func() { bs.unregister(b, w) }, nil
}

// unregister removes w; the last one out cancels a Describe in flight, so
// the loop exits at once.
func (bs *WaitBatches) unregister(b *batcher, w *watch) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	delete(b.watches, w)
	if len(b.watches) == 0 {
		if b.tickCancel != nil {
			b.tickCancel()
		}
		b.signal()
	}
}

// describerKey identifies whom c describes as: an *ec2.Client by its
// region, endpoint and access key ID, so the waits of every Session with
// the same credentials share a loop; any other describer (a test fake,
// which must then be comparable) by its identity.
func describerKey(ctx context.Context, c EC2Describer, region string) (batchKey, error) {
	oc, ok := c.(interface{ Options() ec2.Options })
	if !ok {
		return batchKey{who: c, region: region}, nil
	}
	o := oc.Options()
	id := "endpoint " + aws.ToString(o.BaseEndpoint)
	if o.Credentials != nil {
		creds, err := o.Credentials.Retrieve(ctx)
		if err != nil {
			return batchKey{}, fmt.Errorf("credentials: %w", err)
		}
		id += " key " + creds.AccessKeyID
	}
	return batchKey{who: sha256.Sum256([]byte(id)), region: o.Region}, nil
}

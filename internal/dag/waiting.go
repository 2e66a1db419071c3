package dag

import (
	"context"
	"sync"
)

// Waiting calls fn(ctx) for a node that is only waiting (on a cloud
// operation to complete, say) rather than working. While fn runs, the node
// whose Run received ctx does not count against Options.Parallelism: it
// gives its slot back, so another node can start, and takes one again when
// fn returns, waiting for a free one first (ahead of nodes not yet
// started). Calls may nest or run concurrently within one node; the slot
// is given back by the first and taken again when the last returns.
// Outside a walk (ctx is not, and does not derive from, the context a Run
// received) and in a Cleanup, Waiting just calls fn(ctx). Waiting returns
// what fn returns.
func Waiting(ctx context.Context, fn func(context.Context) error) error {
	s, _ := ctx.Value(slotKey{}).(*nodeSlot)
	if s == nil || !s.release() {
		return fn(ctx)
	}
	defer s.reacquire()
	return fn(ctx)
}

// slotKey is the context key of the running node's *nodeSlot.
type slotKey struct{}

// nodeSlot is a running node's hold on a parallelism slot.
type nodeSlot struct {
	w       *walker
	pos     int
	mu      sync.Mutex
	waiting int  // Waiting calls in progress
	done    bool // Run has returned: the walker no longer counts the node
}

// slotMessage asks the walker to take back the slot of the node at pos
// (grant is nil) or to give it one, closing grant when it did.
type slotMessage struct {
	pos   int
	grant chan struct{}
}

// release gives the slot back on the first of nested or concurrent
// Waiting calls. It returns false when Run has already returned, or when
// the walk is serial (the node keeps its slot).
func (s *nodeSlot) release() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.w.opts.Serial {
		return false
	}
	if s.waiting == 0 {
		s.w.slots <- slotMessage{pos: s.pos}
	}
	s.waiting++
	return true
}

// reacquire takes a slot again when the last Waiting call returns, unless
// Run has returned meanwhile. It blocks until the walker grants one; other
// Waiting calls of the node wait with it.
func (s *nodeSlot) reacquire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting--; s.waiting > 0 || s.done {
		return
	}
	grant := make(chan struct{})
	s.w.slots <- slotMessage{pos: s.pos, grant: grant}
	<-grant
}

// finish records that Run returned; it waits for a Waiting call that is
// giving back or taking the slot, so the walker hears of it first.
func (s *nodeSlot) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
}

// slotMessage handles a node giving back or asking for its slot.
func (w *walker) slotMessage(m slotMessage) {
	if m.grant == nil {
		w.log.Trace("node waiting without a slot", "id", w.res.Outcomes[m.pos].ID)
		w.holding[m.pos] = false
		w.busy--
		return
	}
	w.acquireQ = append(w.acquireQ, m)
}

// grantSlots gives slots to the waiting nodes that asked for one again,
// first come first served. Once the walk is cancelled no node starts, so
// they get one at once and can return promptly.
func (w *walker) grantSlots(ctx context.Context) {
	for len(w.acquireQ) > 0 && (w.busy < w.opts.Parallelism || ctx.Err() != nil) {
		m := w.acquireQ[0]
		w.acquireQ = w.acquireQ[1:]
		w.holding[m.pos] = true
		w.busy++
		close(m.grant)
	}
}

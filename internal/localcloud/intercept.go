package localcloud

import (
	"net/http"
	"sync"
)

// Phase says when an interceptor sees a request.
type Phase int

// The phases of a request.
const (
	// BeforeForward: the request has arrived and has not reached moto.
	BeforeForward Phase = iota
	// AfterResponse: moto has carried the request out; its answer has not
	// been sent back to the client yet.
	AfterResponse
)

// Verdict is what an interceptor decides about a request.
type Verdict int

// The verdicts.
const (
	// Continue handles the request normally.
	Continue Verdict = iota
	// Drop closes the connection without an answer (as when the client's
	// process dies at that moment). AfterResponse, the action took effect.
	Drop
	// Fail answers with a non-retryable EC2 error, UnauthorizedOperation.
	// AfterResponse, the action took effect but the client sees a failure.
	Fail
)

// Request identifies one EC2 request for an interceptor.
type Request struct {
	Region string
	Action string
	// N counts the requests of this action so far, from 1, in all regions.
	N int
}

// Interceptor is called for every EC2 request in both phases, from the
// request's goroutine. Tests use it to stop or fail a client at an exact
// step: for example, kill the client process when the first CopyImage
// arrives and return Drop.
type Interceptor func(Request, Phase) Verdict

// interceptor counts requests per action and applies the Interceptor.
type interceptor struct {
	fn     Interceptor
	mu     sync.Mutex
	counts map[string]int
}

func newInterceptor(fn Interceptor) *interceptor {
	return &interceptor{fn: fn, counts: map[string]int{}}
}

// arrive counts a request and returns its identity.
func (i *interceptor) arrive(r *request) Request {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.counts[r.action]++
	return Request{Region: r.region, Action: r.action, N: i.counts[r.action]}
}

// judge applies the interceptor; it reports whether the request was
// answered (dropped or failed) and must not be handled further.
func (i *interceptor) judge(w http.ResponseWriter, req Request, phase Phase) bool {
	if i == nil || i.fn == nil {
		return false
	}
	switch i.fn(req, phase) {
	case Drop:
		panic(http.ErrAbortHandler) // net/http closes the connection without a response
	case Fail:
		writeError(w, &apiError{http.StatusBadRequest, "UnauthorizedOperation",
			"injected failure of " + req.Action + " (local cloud interceptor)"})
		return true
	}
	return false
}

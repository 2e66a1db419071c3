package steps

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestProtectOutlivesAnInterrupt: an interrupt while join protects the
// final images does not abandon the protect calls in flight. EC2 carries
// out a request whose answer the client stopped waiting for, and a
// protection applied after the cleanup lifted it would refuse the
// cleanup's deregistration; so each call runs to its answer, and join
// then reports the interrupt without committing anything.
func TestProtectOutlivesAnInterrupt(t *testing.T) {
	f := newFakeEC2()
	f.images["ami-1"] = &fakeImage{state: "available", tags: map[string]string{}}
	cfg := testConfig()
	cfg.DeregistrationProtection.Enabled = true
	b := fakeBuild(t, f, cfg)
	b.st.finals = map[string]*imageRecord{cfg.Region: {Region: cfg.Region, ID: "ami-1"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered, release := make(chan struct{}), make(chan struct{})
	var abandoned atomic.Bool
	f.callHook = func(action string, r *http.Request) {
		if action == "EnableImageDeregistrationProtection" {
			close(entered)
			<-release
			abandoned.Store(r.Context().Err() != nil)
		}
	}
	done := make(chan error, 1)
	go func() { done <- (&join{b: b}).Run(ctx) }()
	<-entered
	cancel() // the interrupt, while the call is in flight
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("join after an interrupt: %v, want context.Canceled", err)
	}
	if abandoned.Load() {
		t.Error("the protect call was abandoned when the build was interrupted")
	}
	if n := len(f.callsTo("EnableImageDeregistrationProtection")); n != 1 {
		t.Errorf("%d protect calls, want 1", n)
	}
	if b.st.finals[cfg.Region].kept || len(f.callsTo("CreateTags")) > 0 {
		t.Error("join committed the images after the interrupt")
	}
}

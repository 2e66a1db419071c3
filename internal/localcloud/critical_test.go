package localcloud

import (
	"testing"
	"time"
)

// TestCriticalPathUsesDrawnDelays checks that the critical path adds the
// delays drawn for one instance, its image and the image's slowest copy,
// and takes the longest such chain.
func TestCriticalPathUsesDrawnDelays(t *testing.T) {
	s := Settings{Boot: 3 * time.Second, Stop: 2 * time.Second, Terminate: 2 * time.Second, Jitter: 0.2, Seed: 7}
	w := newWorld(s)
	now := time.Unix(1000, 0)
	w.now = func() time.Time { return now }
	chain := func(inst, img string, copies ...string) time.Duration {
		w.instanceTransition("r1", inst, "pending", s.Boot)
		w.instanceTransition("r1", inst, "stopping", s.Stop)
		w.newImage("r1", img, "n", "r1/"+inst, 5*time.Second)
		w.instanceTransition("r1", inst, "shutting-down", s.Terminate)
		in, im := w.instances["r1/"+inst], w.images["r1/"+img]
		d := in.drawn["pending"] + in.drawn["stopping"] + in.drawn["shutting-down"] + im.until.Sub(im.start)
		var slowest time.Duration
		for i, c := range copies {
			w.newImage("r"+string(rune('2'+i)), c, "n", "r1/"+img, 8*time.Second)
			cp := w.images["r"+string(rune('2'+i))+"/"+c]
			slowest = max(slowest, cp.until.Sub(cp.start))
		}
		return d + slowest
	}
	a := chain("i-a", "ami-a", "ami-a1", "ami-a2", "ami-a3")
	b := chain("i-b", "ami-b")
	want := max(a, b)
	if got := w.criticalPath(); got != want {
		t.Errorf("critical path %v, want %v (chains %v and %v)", got, want, a, b)
	}
	if a == 20*time.Second {
		t.Errorf("chain %v equals the nominal delays: jitter was not drawn", a)
	}
}

package localcloud

import (
	"sync"
	"time"
)

// Stats counts the EC2 and SSM requests the cloud received. It is served
// as JSON at GET /_localcloud/stats.
type Stats struct {
	// Actions counts requests per EC2 or SSM action over all regions.
	Actions map[string]int `json:"actions"`
	// Regions counts requests per region and action.
	Regions map[string]RegionStats `json:"regions"`
	// Throttled counts requests refused with RequestLimitExceeded.
	Throttled int `json:"throttled"`
	// Faults counts injected InternalError responses.
	Faults int `json:"faults"`
	// CriticalPath is the longest chain of delays the cloud drew for one
	// instance: boot, stop, termination, the image made from it and that
	// image's slowest copy (jitter included).
	CriticalPath time.Duration `json:"critical_path_ns"`
}

// RegionStats counts the requests of one region.
type RegionStats struct {
	Actions map[string]int `json:"actions"`
}

// counter is the concurrency-safe home of Stats.
type counter struct {
	mu sync.Mutex
	s  Stats
}

func newCounter() *counter {
	c := &counter{}
	c.reset()
	return c
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = Stats{Actions: map[string]int{}, Regions: map[string]RegionStats{}}
}

func (c *counter) request(region, action string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Actions[action]++
	rs, ok := c.s.Regions[region]
	if !ok {
		rs = RegionStats{Actions: map[string]int{}}
		c.s.Regions[region] = rs
	}
	rs.Actions[action]++
}

func (c *counter) throttled() { c.mu.Lock(); c.s.Throttled++; c.mu.Unlock() }
func (c *counter) fault()     { c.mu.Lock(); c.s.Faults++; c.mu.Unlock() }

// snapshot returns a deep copy of the counts.
func (c *counter) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Stats{Actions: map[string]int{}, Regions: map[string]RegionStats{}, Throttled: c.s.Throttled, Faults: c.s.Faults}
	for k, v := range c.s.Actions {
		out.Actions[k] = v
	}
	for r, rs := range c.s.Regions {
		cp := RegionStats{Actions: map[string]int{}}
		for k, v := range rs.Actions {
			cp.Actions[k] = v
		}
		out.Regions[r] = cp
	}
	return out
}

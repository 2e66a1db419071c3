package sweep

import (
	"slices"
	"time"

	"github.com/imgbuild/imgbuild/internal/journal"
)

// rank orders resource types for deletion: what uses a resource goes
// before it. Terminating an instance frees its security group, key pair
// and volumes; deregistering an image frees its snapshots.
var rank = map[journal.Type]int{
	journal.BundleTask:    -1, // it bundles an instance into objects
	journal.Instance:      0,
	journal.SecurityGroup: 1,
	journal.KeyPair:       2,
	journal.Image:         3,
	journal.Snapshot:      4,
	journal.Volume:        5,
	journal.BucketObject:  6,
}

// otherRank is the rank of types rank does not list: last.
const otherRank = 7

// Order sorts resources into deletion order, keeping the relative order of
// resources of one type: instances, security groups, key pairs, images,
// snapshots, volumes, bucket objects, then any other type.
func Order(rs []journal.Resource) {
	slices.SortStableFunc(rs, func(a, b journal.Resource) int {
		return typeRank(a.Type) - typeRank(b.Type)
	})
}

func typeRank(t journal.Type) int {
	if r, ok := rank[t]; ok {
		return r
	}
	return otherRank
}

// selectOld keeps the resources created at least olderThan before now. A
// resource without a creation time (a security group) takes the oldest
// creation time of the other resources of its run; if its run has none,
// it is kept only when olderThan is zero.
func selectOld(all []found, olderThan time.Duration, now time.Time) []journal.Resource {
	oldest := map[string]time.Time{} // run ID -> oldest known creation time
	for _, f := range all {
		run := f.res.Tags[tagRunID]
		if t, ok := oldest[run]; !f.created.IsZero() && (!ok || f.created.Before(t)) {
			oldest[run] = f.created
		}
	}
	cutoff := now.Add(-olderThan)
	var out []journal.Resource
	for _, f := range all {
		created := f.created
		if created.IsZero() {
			created = oldest[f.res.Tags[tagRunID]]
		}
		if olderThan == 0 || (!created.IsZero() && !created.After(cutoff)) {
			out = append(out, f.res)
		}
	}
	return out
}

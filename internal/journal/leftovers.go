package journal

// cleanupRank orders resource types for cleanup: what uses a resource goes
// before it. Instances go first (terminating one releases its security
// group, key pair and volumes); an image goes before its snapshots.
var cleanupRank = map[Type]int{
	BundleTask:    0, // it bundles an instance and writes objects
	Instance:      1,
	SecurityGroup: 2,
	KeyPair:       3,
	Image:         4,
	Snapshot:      5,
	Volume:        6,
	BucketObject:  7,
}

// otherRank is the rank of types not in cleanupRank: last.
const otherRank = 8

// Leftovers returns what cleanup must remove: every resource intended or
// created and neither deleted, kept nor known not created, in cleanup
// order. Bundle tasks come first (cancelled before their instance goes),
// then instances, security groups, key pairs, images
// (each followed by its own snapshots), other snapshots, volumes, bucket
// objects and any other type; within a type, the newest first. Intended
// resources have no ID: cleanup finds them by client token, name or tags.
// The snapshots of a kept image are never leftovers, even if they were not
// marked kept themselves.
func (r *Run) Leftovers() []Resource {
	images := map[string]State{} // region/id -> state of each image with an ID
	for _, res := range r.Resources {
		if res.Type == Image && res.ID != "" {
			images[key(Image, res.Region, res.ID)] = res.State
		}
	}
	var ranks [otherRank + 1][]Resource
	children := map[string][]Resource{} // image key -> its leftover snapshots
	for i := len(r.Resources) - 1; i >= 0; i-- {
		res := r.Resources[i]
		if !res.leftover() {
			continue
		}
		if res.Type == Snapshot && res.Parent != "" {
			k := key(Image, res.Region, res.Parent)
			switch images[k] {
			case StateKept:
				continue
			case StateIntended, StateCreated:
				children[k] = append(children[k], res)
				continue
			}
		}
		rank, ok := cleanupRank[res.Type]
		if !ok {
			rank = otherRank
		}
		ranks[rank] = append(ranks[rank], res)
	}
	var out []Resource
	for _, rs := range ranks {
		for _, res := range rs {
			out = append(out, res)
			if res.Type == Image {
				out = append(out, children[key(Image, res.Region, res.ID)]...)
			}
		}
	}
	return out
}

func (r Resource) leftover() bool {
	return r.State == StateIntended || r.State == StateCreated
}

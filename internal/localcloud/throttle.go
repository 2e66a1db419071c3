package localcloud

import (
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// bucket is one EC2 request token bucket: capacity and refill per second.
type bucket struct {
	name   string
	max    int
	refill float64
}

// Request token buckets from EC2's throttling documentation (see
// shared/reference/aws.md 3.8). Buckets are per account and per region.
var (
	bucketDescribe   = bucket{"non-mutating", 100, 20}
	bucketUnfiltered = bucket{"unfiltered-describe", 50, 10}
	bucketMutating   = bucket{"mutating", 50, 5}
	bucketIntensive  = bucket{"resource-intensive", 50, 5}
	bucketCopyImage  = bucket{"CopyImage", 100, 1}
	bucketTags       = bucket{"tags", 100, 10}
	bucketImageMod   = bucket{"image-and-snapshot", 100, 5}
	bucketRun        = bucket{"RunInstances", 5, 2}
	bucketStoreTask  = bucket{"store-restore-task", 50, 0.1}
	bucketBlockPub   = bucket{"image-block-public-access", 1, 0.1}
)

// unfilteredCostly are the Describe calls with their own, smaller bucket
// when called without filters and without pagination.
var unfilteredCostly = map[string]bool{
	"DescribeInstances": true, "DescribeInstanceStatus": true, "DescribeNetworkInterfaces": true,
	"DescribeSecurityGroups": true, "DescribeSnapshots": true, "DescribeSpotInstanceRequests": true,
	"DescribeVolumes": true,
}

// bucketFor returns the bucket an EC2 request draws from.
func bucketFor(r *request) bucket {
	a := r.action
	switch a {
	case "RunInstances", "StartInstances":
		return bucketRun
	case "CopyImage":
		return bucketCopyImage
	case "CreateTags", "DeleteTags":
		return bucketTags
	case "DeregisterImage", "ModifyImageAttribute", "ModifySnapshotAttribute", "DeleteSnapshot", "CreateSnapshot", "TerminateInstances":
		return bucketImageMod
	case "CreateStoreImageTask", "CreateRestoreImageTask":
		return bucketStoreTask
	case "EnableImageBlockPublicAccess", "DisableImageBlockPublicAccess":
		return bucketBlockPub
	case "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
		"RevokeSecurityGroupEgress", "CreateKeyPair", "ImportKeyPair", "CreateVolume", "AttachVolume", "DetachVolume":
		return bucketIntensive
	}
	for _, p := range []string{"Describe", "List", "Search", "Get"} {
		if strings.HasPrefix(a, p) {
			if unfilteredCostly[a] && !filteredOrPaged(r) {
				return bucketUnfiltered
			}
			return bucketDescribe
		}
	}
	return bucketMutating
}

// filteredOrPaged reports whether a Describe call narrows its result by
// filters, IDs or MaxResults.
func filteredOrPaged(r *request) bool {
	for k := range r.form {
		if strings.HasPrefix(k, "Filter.") || k == "MaxResults" || strings.Contains(k, "Id.") || strings.HasPrefix(k, "GroupName.") {
			return true
		}
	}
	return false
}

// throttle holds the token buckets of every region.
type throttle struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter // region + "/" + bucket name
}

func newThrottle() *throttle { return &throttle{buckets: map[string]*rate.Limiter{}} }

// allow takes a token for r, reporting false when its bucket is empty.
func (t *throttle) allow(r *request) bool {
	b := bucketFor(r)
	key := r.region + "/" + b.name
	t.mu.Lock()
	l, ok := t.buckets[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(b.refill), b.max)
		t.buckets[key] = l
	}
	t.mu.Unlock()
	return l.Allow()
}

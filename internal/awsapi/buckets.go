package awsapi

import (
	"strings"

	"golang.org/x/time/rate"
)

// Bucket is the size and refill rate of one token bucket.
type Bucket struct {
	// Name says which EC2 category the bucket models, e.g. "non-mutating".
	Name string
	// Burst is the bucket's capacity in requests.
	Burst int
	// Refill is the number of tokens added per second; it may be fractional.
	Refill rate.Limit
}

// EC2 request buckets per account and region, from the EC2 API throttling
// documentation (aws.md 3.8). Each action gets its own bucket of its
// category's size.
var (
	bucketNonMutating = Bucket{Name: "non-mutating", Burst: 100, Refill: 20}
	bucketUnfiltered  = Bucket{Name: "unfiltered-describe", Burst: 50, Refill: 10}
	bucketMutating    = Bucket{Name: "mutating", Burst: 50, Refill: 5}
	bucketIntensive   = Bucket{Name: "resource-intensive", Burst: 50, Refill: 5}
	bucketCopyImage   = Bucket{Name: "copy-image", Burst: 100, Refill: 1}
	bucketTags        = Bucket{Name: "tags", Burst: 100, Refill: 10}
	bucketDelete      = Bucket{Name: "image-snapshot-terminate", Burst: 100, Refill: 5}
	bucketRunStart    = Bucket{Name: "run-start-instances", Burst: 5, Refill: 2}
	bucketStoreTasks  = Bucket{Name: "store-restore-tasks", Burst: 50, Refill: 0.1}
	bucketBlockPublic = Bucket{Name: "image-block-public-access", Burst: 1, Refill: 0.1}
)

// ec2Actions are the actions whose bucket differs from their category.
var ec2Actions = map[string]Bucket{
	"CopyImage":                     bucketCopyImage,
	"CreateTags":                    bucketTags,
	"DeleteTags":                    bucketTags,
	"DeregisterImage":               bucketDelete,
	"ModifyImageAttribute":          bucketDelete,
	"ModifySnapshotAttribute":       bucketDelete,
	"DeleteSnapshot":                bucketDelete,
	"CreateSnapshot":                bucketDelete,
	"TerminateInstances":            bucketDelete,
	"RunInstances":                  bucketRunStart,
	"StartInstances":                bucketRunStart,
	"CreateKeyPair":                 bucketIntensive,
	"AuthorizeSecurityGroupIngress": bucketIntensive,
	"RevokeSecurityGroupIngress":    bucketIntensive,
	"CreateStoreImageTask":          bucketStoreTasks,
	"CreateRestoreImageTask":        bucketStoreTasks,
	"EnableImageBlockPublicAccess":  bucketBlockPublic,
	"DisableImageBlockPublicAccess": bucketBlockPublic,
}

// nonMutatingPrefixes name EC2's non-mutating category.
var nonMutatingPrefixes = []string{"Describe", "Get", "List", "Search"}

// EC2Bucket returns the bucket EC2 charges action to. unfiltered says the
// request is an unfiltered, unpaginated Describe of one of the actions EC2
// charges to its smaller bucket (see unfilteredDescribe); it is ignored for
// other actions.
func EC2Bucket(action string, unfiltered bool) Bucket {
	if b, ok := ec2Actions[action]; ok {
		return b
	}
	for _, p := range nonMutatingPrefixes {
		if strings.HasPrefix(action, p) {
			if unfiltered && unfilteredActions[action] {
				return bucketUnfiltered
			}
			return bucketNonMutating
		}
	}
	return bucketMutating
}

// unfilteredActions are charged to the 50/10 bucket when called without IDs,
// filters or MaxResults.
var unfilteredActions = map[string]bool{
	"DescribeInstances":            true,
	"DescribeInstanceStatus":       true,
	"DescribeNetworkInterfaces":    true,
	"DescribeSecurityGroups":       true,
	"DescribeSnapshots":            true,
	"DescribeSpotInstanceRequests": true,
	"DescribeVolumes":              true,
}

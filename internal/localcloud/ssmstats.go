package localcloud

import (
	"net/http"
	"strings"
)

// countSSM counts an SSM request (JSON protocol, X-Amz-Target
// "AmazonSSM.<Action>") in Stats under its action and region, so tests
// can count the mutating calls of a run (PutParameter, DeleteParameter,
// AddTagsToResource, ...) with the EC2 ones. SSM itself passes through to
// moto untouched. Other requests are not counted.
func (p *proxy) countSSM(r *http.Request) {
	action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	if !ok || action == "" {
		return
	}
	region, _ := sigScope(r.Header)
	if region == "" {
		region = Region
	}
	p.stats.request(region, action)
}

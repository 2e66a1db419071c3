package amazon

import (
	"context"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/communicator"
)

// NeedsTemporarySecurityGroup reports whether the build makes its own
// security group: it connects to the instance and is given none.
func (c *SourceConfig) NeedsTemporarySecurityGroup() bool {
	return c.Type != communicator.None && c.SecurityGroupID == "" && len(c.SecurityGroupIDs) == 0 &&
		len(c.SecurityGroupFilter.Filters) == 0
}

// prepareSourceCIDRs warns when the build would refuse to open its
// temporary security group: imgbuild never admits 0.0.0.0/0 by default,
// so without temporary_security_group_source_cidrs (or _public_ip) only
// an EC2 endpoint on loopback (an emulator on this machine) gets a
// default. The endpoint is resolved offline, as the build resolves it
// (custom_endpoint_ec2, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the
// profile's endpoint_url). A warning, not an error: validate may run
// where the build's environment is not.
func (c *SourceConfig) prepareSourceCIDRs(ctx *check.Context) {
	if !c.NeedsTemporarySecurityGroup() || c.TemporarySGSourcePublicIP || len(c.TemporarySGSourceCidrs) > 0 ||
		ctx.IsUnknown("temporary_security_group_source_cidrs") || ctx.IsUnknown("custom_endpoint_ec2") ||
		ctx.IsUnknown("profile") || ctx.IsUnknown("temporary_security_group_source_public_ip") ||
		(c.CustomEndpointEC2 != "" && endpointURL(c.CustomEndpointEC2) != nil) {
		return // an invalid custom_endpoint_ec2 is reported by itself
	}
	endpoint, err := awsapi.ResolveEC2Endpoint(context.Background(), c.Access())
	if err != nil || awsapi.IsLoopbackEndpoint(endpoint) {
		return // a configuration error is reported with the region
	}
	where := "AWS"
	if endpoint != "" {
		where = endpoint
	}
	ctx.Warnf(check.Path("temporary_security_group_source_cidrs"), "No source for the temporary security group",
		"The build sends EC2 requests to %s and makes a temporary security group, which imgbuild never opens to 0.0.0.0/0 "+
			"by default: the build stops there. Set temporary_security_group_source_cidrs to the addresses imgbuild connects "+
			"from, or temporary_security_group_source_public_ip = true, or security_group_ids to use existing groups.", where)
}

package steps

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// network is the build's subnet and VPC, resolved once and shared by the
// security group (which needs the VPC) and the launch (which needs the
// subnet); the two run in parallel.
type network struct {
	once   sync.Once
	subnet string // "" = let EC2 choose (default VPC)
	vpc    string
	err    error
}

// network resolves subnet_id, subnet_filter, vpc_id or the default VPC.
func (b *build) network(ctx context.Context) (subnet, vpc string, err error) {
	b.net.once.Do(func() {
		b.net.subnet, b.net.vpc, b.net.err = b.resolveNetwork(ctx)
	})
	return b.net.subnet, b.net.vpc, b.net.err
}

// subnet returns the subnet to launch in, "" to let EC2 choose in the
// default VPC. Without subnet_id or subnet_filter it makes no call (the
// default VPC is looked up only when a security group needs it): a region
// without one fails the launch with EC2's VPCIdNotSpecified.
func (b *build) subnet(ctx context.Context) (string, error) {
	if b.cfg.SubnetID == "" && len(b.cfg.SubnetFilter.Filters) == 0 && len(b.cfg.VpcFilter.Filters) == 0 &&
		b.st.groupID == "" && len(b.cfg.SecurityGroupFilter.Filters) == 0 {
		return "", nil
	}
	subnet, _, err := b.network(ctx)
	return subnet, err
}

func (b *build) resolveNetwork(ctx context.Context) (subnet, vpc string, err error) {
	cfg, c := b.cfg, b.ec2(b.cfg.Region)
	vpcID := cfg.VpcID
	if vpcID == "" && len(cfg.VpcFilter.Filters) > 0 && cfg.SubnetID == "" {
		if vpcID, err = b.filterVpc(ctx, c); err != nil {
			return "", "", err
		}
	}
	switch {
	case cfg.SubnetID != "":
		sn, err := describeSubnets(ctx, c, &ec2.DescribeSubnetsInput{SubnetIds: []string{cfg.SubnetID}})
		if err != nil || len(sn) == 0 {
			return "", "", fmt.Errorf("subnet %s in %s: not found (%v)", cfg.SubnetID, cfg.Region, err)
		}
		return cfg.SubnetID, aws.ToString(sn[0].VpcId), nil
	case len(cfg.SubnetFilter.Filters) > 0:
		return b.filterSubnet(ctx, c, vpcID)
	case vpcID != "":
		return "", vpcID, nil
	}
	out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{
		Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}},
	})
	if err != nil {
		return "", "", fmt.Errorf("find the default VPC in %s: %w", cfg.Region, err)
	}
	if len(out.Vpcs) == 0 {
		return "", "", fmt.Errorf("%s has no default VPC; set subnet_id, subnet_filter or vpc_id", cfg.Region)
	}
	return "", aws.ToString(out.Vpcs[0].VpcId), nil
}

// filterSubnet picks the subnet matching subnet_filter (within vpc_id when
// set): the one with the most free addresses with most_free, a random one
// with random, otherwise exactly one must match.
func (b *build) filterSubnet(ctx context.Context, c *ec2.Client, vpcID string) (string, string, error) {
	cfg := b.cfg
	in := &ec2.DescribeSubnetsInput{Filters: mapFilters(cfg.SubnetFilter.Filters)}
	if vpcID != "" {
		in.Filters = append(in.Filters, types.Filter{Name: aws.String("vpc-id"), Values: []string{vpcID}})
	}
	sn, err := describeSubnets(ctx, c, in)
	if err != nil {
		return "", "", fmt.Errorf("subnet_filter in %s: %w", cfg.Region, err)
	}
	var pick types.Subnet
	switch {
	case len(sn) == 0:
		return "", "", fmt.Errorf("subnet_filter matches no subnet in %s", cfg.Region)
	case cfg.SubnetFilter.MostFree:
		sort.SliceStable(sn, func(i, j int) bool {
			return aws.ToInt32(sn[i].AvailableIpAddressCount) > aws.ToInt32(sn[j].AvailableIpAddressCount)
		})
		pick = sn[0]
	case cfg.SubnetFilter.Random:
		pick = sn[rand.IntN(len(sn))]
	case len(sn) > 1:
		return "", "", fmt.Errorf("subnet_filter matches %d subnets in %s; narrow it or set most_free or random", len(sn), cfg.Region)
	default:
		pick = sn[0]
	}
	b.say("using subnet %s (%s)", aws.ToString(pick.SubnetId), aws.ToString(pick.AvailabilityZone))
	return aws.ToString(pick.SubnetId), aws.ToString(pick.VpcId), nil
}

// filterVpc returns the one VPC matching vpc_filter; as in Packer, no
// match or several matches is an error.
func (b *build) filterVpc(ctx context.Context, c *ec2.Client) (string, error) {
	cfg := b.cfg
	var vpcs []types.Vpc
	p := ec2.NewDescribeVpcsPaginator(c, &ec2.DescribeVpcsInput{Filters: mapFilters(cfg.VpcFilter.Filters)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("vpc_filter in %s: %w", cfg.Region, err)
		}
		vpcs = append(vpcs, page.Vpcs...)
	}
	if len(vpcs) != 1 {
		return "", fmt.Errorf("vpc_filter matches %d VPCs in %s; exactly one must match", len(vpcs), cfg.Region)
	}
	id := aws.ToString(vpcs[0].VpcId)
	b.say("using VPC %s", id)
	return id, nil
}

// securityGroups returns the groups to launch with: the temporary group,
// security_group_ids, or every group matching security_group_filter
// (within the build's VPC), which must match at least one.
func (b *build) securityGroups(ctx context.Context) ([]string, error) {
	cfg := b.cfg
	switch {
	case b.st.groupID != "":
		return []string{b.st.groupID}, nil
	case len(cfg.SecurityGroupIDs) > 0 || len(cfg.SecurityGroupFilter.Filters) == 0:
		return cfg.SecurityGroupIDs, nil
	}
	_, vpc, err := b.network(ctx)
	if err != nil {
		return nil, err
	}
	filters := mapFilters(cfg.SecurityGroupFilter.Filters)
	if vpc != "" && cfg.SecurityGroupFilter.Filters["vpc-id"] == "" {
		filters = append(filters, types.Filter{Name: aws.String("vpc-id"), Values: []string{vpc}})
	}
	var ids []string
	p := ec2.NewDescribeSecurityGroupsPaginator(b.ec2(cfg.Region), &ec2.DescribeSecurityGroupsInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("security_group_filter in %s: %w", cfg.Region, err)
		}
		for _, g := range page.SecurityGroups {
			ids = append(ids, aws.ToString(g.GroupId))
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("security_group_filter matches no security group in %s", cfg.Region)
	}
	b.say("using security groups %v", ids)
	return ids, nil
}

func describeSubnets(ctx context.Context, c *ec2.Client, in *ec2.DescribeSubnetsInput) ([]types.Subnet, error) {
	var out []types.Subnet
	p := ec2.NewDescribeSubnetsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Subnets...)
	}
	return out, nil
}

// mapFilters turns a filters map into sorted EC2 filters.
func mapFilters(m map[string]string) []types.Filter {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]types.Filter, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.Filter{Name: aws.String(k), Values: []string{m[k]}})
	}
	return out
}

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
	if b.cfg.SubnetID == "" && len(b.cfg.SubnetFilter.Filters) == 0 && b.st.groupID == "" {
		return "", nil
	}
	subnet, _, err := b.network(ctx)
	return subnet, err
}

func (b *build) resolveNetwork(ctx context.Context) (subnet, vpc string, err error) {
	cfg, c := b.cfg, b.ec2(b.cfg.Region)
	switch {
	case cfg.SubnetID != "":
		sn, err := describeSubnets(ctx, c, &ec2.DescribeSubnetsInput{SubnetIds: []string{cfg.SubnetID}})
		if err != nil || len(sn) == 0 {
			return "", "", fmt.Errorf("subnet %s in %s: not found (%v)", cfg.SubnetID, cfg.Region, err)
		}
		return cfg.SubnetID, aws.ToString(sn[0].VpcId), nil
	case len(cfg.SubnetFilter.Filters) > 0:
		return b.filterSubnet(ctx, c)
	case cfg.VpcID != "":
		return "", cfg.VpcID, nil
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
func (b *build) filterSubnet(ctx context.Context, c *ec2.Client) (string, string, error) {
	cfg := b.cfg
	in := &ec2.DescribeSubnetsInput{Filters: mapFilters(cfg.SubnetFilter.Filters)}
	if cfg.VpcID != "" {
		in.Filters = append(in.Filters, types.Filter{Name: aws.String("vpc-id"), Values: []string{cfg.VpcID}})
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

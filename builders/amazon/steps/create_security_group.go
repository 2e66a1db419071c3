package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/communicator"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// loopbackCIDR is the source admitted when the EC2 endpoint is on loopback
// (the local cloud) and no CIDR is configured.
const loopbackCIDR = "127.0.0.0/8"

// createSecurityGroup creates the temporary security group in the VPC of
// subnet_id or vpc_id (or the default VPC), admitting only the
// communicator port from temporary_security_group_source_cidrs. Cleanup
// deletes it (sweep.Delete retries while EC2 still reports it in use),
// after looking it up when the CreateSecurityGroup outcome is unknown.
type createSecurityGroup struct {
	b       *build
	id      string
	pending *pendingCreate // the create call, when its outcome is unknown
}

// Run creates the group and its ingress rule.
func (n *createSecurityGroup) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	c := b.ec2(region)
	cidrs, err := sourceCIDRs(ctx, b.cfg, aws.ToString(c.Options().BaseEndpoint))
	if err != nil {
		return err
	}
	name := temporaryName(b.env.RunID, b.env.BuildName)
	_, vpc, err := n.b.network(ctx)
	if err != nil {
		return fmt.Errorf("create temporary security group %s in %s: %w", name, region, err)
	}
	if err := n.create(ctx, c, name, vpc); err != nil {
		return err
	}
	port := int32(communicatorPort(b.cfg))
	perm := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
	for _, cidr := range cidrs {
		perm.IpRanges = append(perm.IpRanges, types.IpRange{CidrIp: aws.String(cidr), Description: aws.String("imgbuild " + b.env.BuildName)})
	}
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(n.id), IpPermissions: []types.IpPermission{perm},
	}, awsapi.RetryEventual); err != nil {
		return fmt.Errorf("open port %d in security group %s in %s: %w", port, n.id, region, err)
	}
	b.st.groupID = n.id
	b.say("temporary security group %s admits port %d from %v", n.id, port, cidrs)
	return nil
}

func (n *createSecurityGroup) create(ctx context.Context, c *ec2.Client, name, vpc string) error {
	b := n.b
	region := b.cfg.Region
	tags, err := b.tagger().temporary()
	if err != nil {
		return fmt.Errorf("create temporary security group %s: %w", name, err)
	}
	intent := journal.Resource{Type: journal.SecurityGroup, Region: region, Build: b.env.BuildName, Name: name, Tags: tags}
	ref, err := b.env.Journal.Intent(intent)
	if err != nil {
		return err
	}
	out, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String(name), VpcId: aws.String(vpc),
		Description:       aws.String("Temporary group of imgbuild build " + b.env.BuildName),
		TagSpecifications: []types.TagSpecification{tagSpec(types.ResourceTypeSecurityGroup, tags)},
	})
	if err != nil {
		// A duplicate of this run's own group (an SDK retry after a lost
		// answer) is adopted.
		if n.id, n.pending = b.failedCreate(ctx, ref, intent, err); n.id == "" {
			return fmt.Errorf("create temporary security group %s in %s: %w", name, region, err)
		}
		return nil
	}
	n.id = aws.ToString(out.GroupId)
	return b.env.Journal.Created(ref, n.id)
}

// sourceCIDRs returns the CIDR blocks the temporary group admits. It never
// defaults to the whole internet: without temporary_security_group_source_cidrs
// only a loopback EC2 endpoint (the local cloud) gets a default.
func sourceCIDRs(ctx context.Context, cfg *Config, endpoint string) ([]string, error) {
	switch {
	case cfg.TemporarySGSourcePublicIP:
		ip, err := publicIP(ctx)
		if err != nil {
			return nil, fmt.Errorf("temporary_security_group_source_public_ip: %w", err)
		}
		return []string{ip + "/32"}, nil
	case len(cfg.TemporarySGSourceCidrs) > 0:
		return cfg.TemporarySGSourceCidrs, nil
	case awsapi.IsLoopbackEndpoint(endpoint):
		return []string{loopbackCIDR}, nil
	}
	return nil, errors.New("the temporary security group needs temporary_security_group_source_cidrs " +
		"(the addresses imgbuild connects from), or set security_group_ids to use existing groups; " +
		"imgbuild never opens the communicator port to 0.0.0.0/0 by default")
}

// PublicIPURLEnv names the environment variable that replaces the address
// of the service telling this machine's public IPv4 address
// (temporary_security_group_source_public_ip), as Packer asks
// checkip.amazonaws.com. Tests point it at a local server.
const PublicIPURLEnv = "IMGBUILD_PUBLIC_IP_URL"

const defaultPublicIPURL = "https://checkip.amazonaws.com"

// publicIP asks the public IP service for this machine's IPv4 address.
func publicIP(ctx context.Context) (string, error) {
	u := cmp.Or(os.Getenv(PublicIPURLEnv), defaultPublicIPURL)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("public IP service %s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("ask %s for this machine's public IP: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return "", fmt.Errorf("ask %s for this machine's public IP: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ask %s for this machine's public IP: %s", u, resp.Status)
	}
	text := strings.TrimSpace(string(body))
	ip := net.ParseIP(text)
	if ip == nil || ip.To4() == nil {
		return "", fmt.Errorf("%s answered %q, not an IPv4 address", u, text)
	}
	return ip.String(), nil
}

// communicatorPort returns the port the communicator connects to.
func communicatorPort(cfg *Config) int {
	if cfg.Type == communicator.WinRM {
		return cfg.WinRMPort
	}
	return cfg.SSHPort
}

// Cleanup deletes the group, retrying while it is still in use.
func (n *createSecurityGroup) Cleanup(ctx context.Context) error {
	_, err := n.b.removeCreated(ctx, n.pending, journal.Resource{Type: journal.SecurityGroup, Region: n.b.cfg.Region, ID: n.id})
	return err
}

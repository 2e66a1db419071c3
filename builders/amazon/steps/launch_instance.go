package steps

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/sweep"
)

// launchInstance runs the build instance with an idempotency token, tagged
// at creation, journals it, waits until it runs and records its
// addresses. Cleanup terminates it (finding it by its run and build tags
// and client token when the RunInstances outcome is unknown), waits until
// it is terminated and deletes the volumes it left.
type launchInstance struct {
	b       *build
	token   string
	id      string
	pending *pendingCreate // the launch, when its outcome is unknown
	subnet  string         // "" lets EC2 choose
}

// Run launches the instance and waits until it runs.
func (n *launchInstance) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	n.token = clientToken(b.env.RunID, b.env.BuildName, region, "instance")
	subnet, groups, err := b.placement(ctx)
	if err != nil {
		return fmt.Errorf("launch instance in %s: %w", region, err)
	}
	n.subnet = subnet
	in, tags, err := n.input(groups)
	if err != nil {
		return fmt.Errorf("launch instance in %s: %w", region, err)
	}
	intent := journal.Resource{Type: journal.Instance, Region: region, Build: b.env.BuildName, ClientToken: n.token, Tags: tags}
	ref, err := b.env.Journal.Intent(intent)
	if err != nil {
		return err
	}
	out, err := b.ec2(region).RunInstances(ctx, in)
	if err != nil {
		_, n.pending = b.failedCreate(ctx, ref, intent, err) // the client token makes no duplicates
		return fmt.Errorf("launch %s instance from %s in %s: %w", b.cfg.InstanceType, b.st.source.ID, region, err)
	}
	n.id = aws.ToString(out.Instances[0].InstanceId)
	if err := b.env.Journal.Created(ref, n.id); err != nil {
		return err
	}
	b.say("instance %s launched in %s, waiting until it runs", n.id, region)
	inst, err := b.waiter(region).InstanceRunning(ctx, n.id)
	if err != nil {
		return err
	}
	b.st.instance = instanceInfoOf(n.id, inst)
	return nil
}

// input returns the RunInstances request and the instance's tags.
func (n *launchInstance) input(groups []string) (*ec2.RunInstancesInput, map[string]string, error) {
	b, cfg := n.b, n.b.cfg
	tg := b.tagger()
	tags, err := tg.temporary()
	if err != nil {
		return nil, nil, err
	}
	volTags, err := tg.volume()
	if err != nil {
		return nil, nil, err
	}
	userData, err := n.userData()
	if err != nil {
		return nil, nil, err
	}
	in := &ec2.RunInstancesInput{
		ImageId: aws.String(b.st.source.ID), InstanceType: types.InstanceType(cfg.InstanceType),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String(n.token),
		UserData:                          userData,
		BlockDeviceMappings:               b.launchMappings(),
		InstanceInitiatedShutdownBehavior: types.ShutdownBehavior(cfg.InstanceInitiatedShutdownBehavior),
		EbsOptimized:                      aws.Bool(cfg.EbsOptimized),
		MetadataOptions:                   metadataOptions(cfg.MetadataOptions.HTTPEndpoint, cfg.MetadataOptions.HTTPTokens, cfg.MetadataOptions.HTTPPutResponseHopLimit, cfg.MetadataOptions.InstanceMetadataTags),
		TagSpecifications: []types.TagSpecification{
			tagSpec(types.ResourceTypeInstance, tags), tagSpec(types.ResourceTypeVolume, volTags),
		},
	}
	if b.st.keyName != "" {
		in.KeyName = aws.String(b.st.keyName)
	} else if cfg.SSHKeyPairName != "" {
		in.KeyName = aws.String(cfg.SSHKeyPairName)
	}
	if cfg.IamInstanceProfile != "" {
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(cfg.IamInstanceProfile)}
	}
	n.placement(in)
	n.network(in, groups)
	launchOptions(in, &cfg.RunConfig)
	return in, tags, nil
}

// launchOptions sets the RunInstances options that map one to one from
// the run configuration, which Prepare has checked: the capacity
// reservation preference or target, unlimited CPU credits and Nitro
// Enclaves.
func launchOptions(in *ec2.RunInstancesInput, rc *amazon.RunConfig) {
	if rc.CapacityReservationPreference != "" || rc.CapacityReservationID != "" || rc.CapacityReservationGroupArn != "" {
		spec := &types.CapacityReservationSpecification{
			CapacityReservationPreference: types.CapacityReservationPreference(rc.CapacityReservationPreference),
		}
		if rc.CapacityReservationID != "" || rc.CapacityReservationGroupArn != "" {
			spec.CapacityReservationTarget = &types.CapacityReservationTarget{}
			if rc.CapacityReservationID != "" {
				spec.CapacityReservationTarget.CapacityReservationId = aws.String(rc.CapacityReservationID)
			}
			if rc.CapacityReservationGroupArn != "" {
				spec.CapacityReservationTarget.CapacityReservationResourceGroupArn = aws.String(rc.CapacityReservationGroupArn)
			}
		}
		in.CapacityReservationSpecification = spec
	}
	if rc.EnableUnlimitedCredits {
		in.CreditSpecification = &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")}
	}
	if rc.EnableNitroEnclave {
		in.EnclaveOptions = &types.EnclaveOptionsRequest{Enabled: aws.Bool(true)}
	}
}

// network sets the subnet and security groups, through a network
// interface specification when associate_public_ip_address is set.
func (n *launchInstance) network(in *ec2.RunInstancesInput, groups []string) {
	cfg := n.b.cfg
	if cfg.AssociatePublicIPAddress == nil {
		in.SecurityGroupIds = groups
		if n.subnet != "" {
			in.SubnetId = aws.String(n.subnet)
		}
		return
	}
	ni := types.InstanceNetworkInterfaceSpecification{
		DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: cfg.AssociatePublicIPAddress,
		DeleteOnTermination: aws.Bool(true), Groups: groups,
	}
	if n.subnet != "" {
		ni.SubnetId = aws.String(n.subnet)
	}
	in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{ni}
}

func (n *launchInstance) placement(in *ec2.RunInstancesInput) {
	cfg := n.b.cfg
	p := cfg.Placement
	if cfg.AvailabilityZone == "" && p.Tenancy == "" && p.HostID == "" && p.HostResourceGroupArn == "" {
		return
	}
	in.Placement = &types.Placement{Tenancy: types.Tenancy(p.Tenancy)}
	if cfg.AvailabilityZone != "" {
		in.Placement.AvailabilityZone = aws.String(cfg.AvailabilityZone)
	}
	if p.HostID != "" {
		in.Placement.HostId = aws.String(p.HostID)
	}
	if p.HostResourceGroupArn != "" {
		in.Placement.HostResourceGroupArn = aws.String(p.HostResourceGroupArn)
	}
}

// userData returns user_data or the content of user_data_file, base64.
func (n *launchInstance) userData() (*string, error) {
	cfg := n.b.cfg
	data := []byte(cfg.UserData)
	if cfg.UserDataFile != "" {
		var err error
		if data, err = os.ReadFile(check.Resolve(n.b.env.BaseDir, cfg.UserDataFile)); err != nil {
			return nil, fmt.Errorf("read user_data_file: %w", err)
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	return aws.String(base64.StdEncoding.EncodeToString(data)), nil
}

func metadataOptions(endpoint, tokens string, hops int, tags string) *types.InstanceMetadataOptionsRequest {
	return &types.InstanceMetadataOptionsRequest{
		HttpEndpoint:            types.InstanceMetadataEndpointState(endpoint),
		HttpTokens:              types.HttpTokensState(tokens),
		HttpPutResponseHopLimit: aws.Int32(int32(hops)),
		InstanceMetadataTags:    types.InstanceMetadataTagsState(tags),
	}
}

// Cleanup terminates the instance (looking it up first when the
// RunInstances outcome is unknown), waits until it is terminated and
// deletes the volumes of this build it left behind.
func (n *launchInstance) Cleanup(ctx context.Context) error {
	r := journal.Resource{Type: journal.Instance, Region: n.b.cfg.Region, ID: n.id}
	removed, err := n.b.removeCreated(ctx, n.pending, r)
	if err != nil || !removed {
		return err
	}
	return n.deleteVolumes(ctx)
}

// deleteVolumes deletes the available volumes tagged with this build's
// run tags: launch volumes without delete_on_termination. When every
// volume of the launch is deleted with the instance, there is nothing to
// look for.
func (n *launchInstance) deleteVolumes(ctx context.Context) error {
	region := n.b.cfg.Region
	if !volumesSurvive(n.b.launchMappings(), n.b.st.source.Mappings) {
		return nil
	}
	filters := append(tagFilters(n.b.env.RunTags()),
		types.Filter{Name: aws.String("status"), Values: []string{"available"}})
	out, err := n.b.ec2(region).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: filters})
	if err != nil {
		return fmt.Errorf("list the volumes of this build's instance in %s, some may be left behind: %w", region, err)
	}
	var errs []error
	for _, v := range out.Volumes {
		r := journal.Resource{Type: journal.Volume, Region: region, ID: aws.ToString(v.VolumeId)}
		if err := sweep.Delete(ctx, n.b.sess, r); err != nil {
			errs = append(errs, fmt.Errorf("%w; it may be left behind", err))
		}
	}
	return errors.Join(errs...)
}

// placement returns the subnet ("" lets EC2 choose) and the security
// groups an instance is launched into, on demand or spot.
func (b *build) placement(ctx context.Context) (string, []string, error) {
	subnet, err := b.subnet(ctx)
	if err != nil {
		return "", nil, err
	}
	groups, err := b.securityGroups(ctx)
	return subnet, groups, err
}

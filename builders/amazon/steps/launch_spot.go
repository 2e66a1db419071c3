package steps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// launchSpot launches the build instance as a spot instance, the way
// Packer does: it creates a temporary launch template holding the whole
// launch (market type spot, max price unless spot_price is "auto"), then
// an EC2 fleet of type "instant" of one spot instance from it, with one
// override per spot_instance_types entry and the spot allocation
// strategy. The launch template, the fleet and the instance are each
// tagged at creation (run tags; spot_tags on the template, fleet_tags on
// the fleet, run_tags on the instance) and journaled before the call that
// creates them. spot_tags also go on the spot instance request EC2 makes
// for the instance, once it is known.
//
// Cleanup terminates the instance exactly as an on-demand one's, then
// deletes the fleet and the launch template.
type launchSpot struct {
	launchInstance // the instance, its pending create and its volumes

	templateName    string
	templateToken   string
	templateID      string
	templatePending *pendingCreate // the template's create, when its outcome is unknown
	fleetToken      string
	fleetID         string
	fleetPending    *pendingCreate // the fleet's create, when its outcome is unknown
}

// spotTemplateName returns the name of the temporary launch template of a
// spot launch: imgbuild-spot_<run-id-8>_<build-hash>, unique per run and
// build, so that cleanup finds it by name after a crash.
func spotTemplateName(runID, buildName string) string {
	return "imgbuild-spot_" + run8(runID) + "_" + buildHash(buildName)
}

// Run creates the launch template and the fleet, and waits until the
// instance runs.
func (n *launchSpot) Run(ctx context.Context) error {
	b := n.b
	region := b.cfg.Region
	n.templateName = spotTemplateName(b.env.RunID, b.env.BuildName)
	n.templateToken = clientToken(b.env.RunID, b.env.BuildName, region, "launch-template")
	n.fleetToken = clientToken(b.env.RunID, b.env.BuildName, region, "fleet")
	subnet, groups, err := b.placement(ctx)
	if err != nil {
		return fmt.Errorf("launch spot instance in %s: %w", region, err)
	}
	n.subnet = subnet
	spec, err := n.spotInputs(groups)
	if err != nil {
		return fmt.Errorf("launch spot instance in %s: %w", region, err)
	}
	if err := n.createTemplate(ctx, spec); err != nil {
		return err
	}
	if err := n.createFleet(ctx, spec); err != nil {
		return err
	}
	b.say("spot instance %s launched in %s by fleet %s, waiting until it runs", n.id, region, n.fleetID)
	inst, err := b.waiter(region).InstanceRunning(ctx, n.id)
	if err != nil {
		return err
	}
	b.st.instance = instanceInfoOf(n.id, inst)
	return n.tagSpotRequest(ctx, aws.ToString(inst.SpotInstanceRequestId), spec.spotTags)
}

// spotSpec is what a spot launch sends: the two requests and the tags of
// the three resources it creates.
type spotSpec struct {
	template     *ec2.CreateLaunchTemplateInput
	fleet        *ec2.CreateFleetInput
	templateTags map[string]string
	fleetTags    map[string]string
	instanceTags map[string]string
	spotTags     map[string]string // spot_tags with the run tags, for the spot request
}

// spotInputs returns the CreateLaunchTemplate and CreateFleet requests
// (the fleet's launch template is named, as it is created with that
// name) and the tags.
func (n *launchSpot) spotInputs(groups []string) (*spotSpec, error) {
	b, cfg := n.b, n.b.cfg
	tg := b.tagger()
	instTags, err := tg.temporary()
	if err != nil {
		return nil, err
	}
	volTags, err := tg.volume()
	if err != nil {
		return nil, err
	}
	spot, err := tg.render(cfg.Region, cfg.SpotTags)
	if err != nil {
		return nil, fmt.Errorf("spot_tags: %w", err)
	}
	spot = tg.seal(spot, true)
	fleet, err := tg.render(cfg.Region, cfg.FleetTags)
	if err != nil {
		return nil, fmt.Errorf("fleet_tags: %w", err)
	}
	fleet = tg.seal(fleet, true)
	data, err := n.templateData(groups, instTags, volTags)
	if err != nil {
		return nil, err
	}
	spec := &spotSpec{templateTags: maps.Clone(spot), fleetTags: fleet, instanceTags: instTags, spotTags: spot}
	spec.template = &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(n.templateName), ClientToken: aws.String(n.templateToken),
		VersionDescription: aws.String("temporary launch template of an imgbuild spot launch"),
		LaunchTemplateData: data,
		TagSpecifications:  []types.TagSpecification{tagSpec(types.ResourceTypeLaunchTemplate, spec.templateTags)},
	}
	var overrides []types.FleetLaunchTemplateOverridesRequest
	for _, t := range cfg.SpotInstanceTypes {
		overrides = append(overrides, types.FleetLaunchTemplateOverridesRequest{InstanceType: types.InstanceType(t)})
	}
	spec.fleet = &ec2.CreateFleetInput{
		Type: types.FleetTypeInstant, ClientToken: aws.String(n.fleetToken),
		LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
			LaunchTemplateSpecification: &types.FleetLaunchTemplateSpecificationRequest{
				LaunchTemplateName: aws.String(n.templateName), Version: aws.String("1"),
			},
			Overrides: overrides,
		}},
		TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{
			TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: types.DefaultTargetCapacityTypeSpot,
		},
		ReplaceUnhealthyInstances: aws.Bool(false),
		TagSpecifications:         []types.TagSpecification{tagSpec(types.ResourceTypeFleet, fleet)},
	}
	if cfg.SpotAllocationStrategy != "" {
		spec.fleet.SpotOptions = &types.SpotOptionsRequest{AllocationStrategy: types.SpotAllocationStrategy(cfg.SpotAllocationStrategy)}
	}
	return spec, nil
}

// templateData is the launch of a spot instance as launch template data:
// the same settings as an on-demand launch (launchInstance.input), with
// the spot market options. A spot instance runs in no capacity
// reservation (validate refuses targeting one) and its shutdown
// behaviour is only set when it is "terminate", as in Packer: EC2's
// default is to stop.
func (n *launchSpot) templateData(groups []string, instTags, volTags map[string]string) (*types.RequestLaunchTemplateData, error) {
	b, cfg := n.b, n.b.cfg
	userData, err := n.userData()
	if err != nil {
		return nil, err
	}
	spotOptions := &types.LaunchTemplateSpotMarketOptionsRequest{}
	if cfg.SpotPrice != "auto" {
		spotOptions.MaxPrice = aws.String(cfg.SpotPrice)
	}
	md := cfg.MetadataOptions
	d := &types.RequestLaunchTemplateData{
		ImageId:             aws.String(b.st.source.ID),
		UserData:            userData,
		BlockDeviceMappings: templateMappings(b.launchMappings()),
		EbsOptimized:        aws.Bool(cfg.EbsOptimized),
		InstanceMarketOptions: &types.LaunchTemplateInstanceMarketOptionsRequest{
			MarketType: types.MarketTypeSpot, SpotOptions: spotOptions,
		},
		MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpEndpoint:            types.LaunchTemplateInstanceMetadataEndpointState(md.HTTPEndpoint),
			HttpTokens:              types.LaunchTemplateHttpTokensState(md.HTTPTokens),
			HttpPutResponseHopLimit: aws.Int32(int32(md.HTTPPutResponseHopLimit)),
			InstanceMetadataTags:    types.LaunchTemplateInstanceMetadataTagsState(md.InstanceMetadataTags),
		},
		TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{
			{ResourceType: types.ResourceTypeInstance, Tags: ec2Tags(instTags)},
			{ResourceType: types.ResourceTypeVolume, Tags: ec2Tags(volTags)},
		},
	}
	if cfg.InstanceType != "" {
		d.InstanceType = types.InstanceType(cfg.InstanceType)
	}
	if cfg.InstanceInitiatedShutdownBehavior == "terminate" {
		d.InstanceInitiatedShutdownBehavior = types.ShutdownBehaviorTerminate
	}
	if b.st.keyName != "" {
		d.KeyName = aws.String(b.st.keyName)
	} else if cfg.SSHKeyPairName != "" {
		d.KeyName = aws.String(cfg.SSHKeyPairName)
	}
	if cfg.IamInstanceProfile != "" {
		d.IamInstanceProfile = &types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(cfg.IamInstanceProfile)}
	}
	if cfg.EnableUnlimitedCredits {
		d.CreditSpecification = &types.CreditSpecificationRequest{CpuCredits: aws.String("unlimited")}
	}
	if p := cfg.Placement; cfg.AvailabilityZone != "" || p.Tenancy != "" || p.HostID != "" || p.HostResourceGroupArn != "" {
		d.Placement = &types.LaunchTemplatePlacementRequest{Tenancy: types.Tenancy(p.Tenancy)}
		if cfg.AvailabilityZone != "" {
			d.Placement.AvailabilityZone = aws.String(cfg.AvailabilityZone)
		}
		if p.HostID != "" {
			d.Placement.HostId = aws.String(p.HostID)
		}
		if p.HostResourceGroupArn != "" {
			d.Placement.HostResourceGroupArn = aws.String(p.HostResourceGroupArn)
		}
	}
	if cfg.AssociatePublicIPAddress == nil && n.subnet == "" {
		d.SecurityGroupIds = groups
		return d, nil
	}
	// A subnet or a public IP choice goes on the network interface, which
	// then holds the security groups too (as in Packer).
	ni := types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{
		DeviceIndex: aws.Int32(0), AssociatePublicIpAddress: cfg.AssociatePublicIPAddress,
		DeleteOnTermination: aws.Bool(true), Groups: groups,
	}
	if n.subnet != "" {
		ni.SubnetId = aws.String(n.subnet)
	}
	d.NetworkInterfaces = []types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{ni}
	return d, nil
}

// templateMappings converts RunInstances block device mappings into
// launch template ones (the same fields, other types).
func templateMappings(ms []types.BlockDeviceMapping) []types.LaunchTemplateBlockDeviceMappingRequest {
	var out []types.LaunchTemplateBlockDeviceMappingRequest
	for _, m := range ms {
		r := types.LaunchTemplateBlockDeviceMappingRequest{DeviceName: m.DeviceName, VirtualName: m.VirtualName, NoDevice: m.NoDevice}
		if e := m.Ebs; e != nil {
			r.Ebs = &types.LaunchTemplateEbsBlockDeviceRequest{
				DeleteOnTermination: e.DeleteOnTermination, Encrypted: e.Encrypted, Iops: e.Iops, KmsKeyId: e.KmsKeyId,
				SnapshotId: e.SnapshotId, Throughput: e.Throughput, VolumeSize: e.VolumeSize, VolumeType: e.VolumeType,
			}
		}
		out = append(out, r)
	}
	return out
}

// createTemplate journals and creates the launch template.
func (n *launchSpot) createTemplate(ctx context.Context, spec *spotSpec) error {
	b := n.b
	region := b.cfg.Region
	intent := journal.Resource{Type: journal.LaunchTemplate, Region: region, Build: b.env.BuildName,
		Name: n.templateName, ClientToken: n.templateToken, Tags: spec.templateTags}
	ref, err := b.env.Journal.Intent(intent)
	if err != nil {
		return err
	}
	out, err := b.ec2(region).CreateLaunchTemplate(ctx, spec.template)
	if err != nil {
		n.templateID, n.templatePending = b.failedCreate(ctx, ref, intent, err)
		return fmt.Errorf("create launch template %s for the spot instance in %s: %w", n.templateName, region, err)
	}
	n.templateID = aws.ToString(out.LaunchTemplate.LaunchTemplateId)
	if err := b.env.Journal.Created(ref, n.templateID); err != nil {
		return err
	}
	b.say("launch template %s (%s) created in %s", n.templateName, n.templateID, region)
	return nil
}

// createFleet journals the fleet and the instance it launches, then
// creates the fleet. An instant fleet answers with the instance it
// launched, or with errors when it launched none (no spot capacity at the
// price, no such instance type in the zone).
func (n *launchSpot) createFleet(ctx context.Context, spec *spotSpec) error {
	b := n.b
	region := b.cfg.Region
	fleetIntent := journal.Resource{Type: journal.Fleet, Region: region, Build: b.env.BuildName,
		ClientToken: n.fleetToken, Tags: spec.fleetTags}
	fleetRef, err := b.env.Journal.Intent(fleetIntent)
	if err != nil {
		return err
	}
	// The instance has no client token of its own: a lost answer is
	// resolved by its run and build tags.
	instIntent := journal.Resource{Type: journal.Instance, Region: region, Build: b.env.BuildName, Tags: spec.instanceTags}
	instRef, err := b.env.Journal.Intent(instIntent)
	if err != nil {
		return err
	}
	out, err := b.ec2(region).CreateFleet(ctx, spec.fleet)
	if err != nil {
		n.fleetID, n.fleetPending = b.failedCreate(ctx, fleetRef, fleetIntent, err)
		n.id, n.pending = b.failedCreate(ctx, instRef, instIntent, err)
		return fmt.Errorf("launch a spot instance (%s) from %s in %s: %w", n.typesLabel(), b.st.source.ID, region, err)
	}
	n.fleetID = aws.ToString(out.FleetId)
	if n.fleetID != "" {
		if err := b.env.Journal.Created(fleetRef, n.fleetID); err != nil {
			return err
		}
	} else if err := b.env.Journal.NotCreated(fleetRef); err != nil {
		return err
	}
	for _, inst := range out.Instances {
		if len(inst.InstanceIds) > 0 {
			n.id = inst.InstanceIds[0]
			break
		}
	}
	if n.id == "" {
		if err := b.env.Journal.NotCreated(instRef); err != nil {
			return err
		}
		return fmt.Errorf("fleet %s launched no spot instance (%s) from %s in %s: %s",
			n.fleetID, n.typesLabel(), b.st.source.ID, region, fleetErrors(out.Errors))
	}
	return b.env.Journal.Created(instRef, n.id)
}

// fleetErrors describes the errors of an instant fleet that launched
// nothing.
func fleetErrors(errs []types.CreateFleetError) string {
	if len(errs) == 0 {
		return "EC2 gave no reason"
	}
	var parts []string
	for _, e := range errs {
		s := aws.ToString(e.ErrorCode) + ": " + aws.ToString(e.ErrorMessage)
		if o := e.LaunchTemplateAndOverrides; o != nil && o.Overrides != nil && o.Overrides.InstanceType != "" {
			s = string(o.Overrides.InstanceType) + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// typesLabel names the instance types the launch may use.
func (n *launchSpot) typesLabel() string {
	if t := n.b.cfg.InstanceType; t != "" {
		return t
	}
	return strings.Join(n.b.cfg.SpotInstanceTypes, ", ")
}

// tagSpotRequest puts spot_tags (with the run tags) on the spot instance
// request of the instance, as Packer does: EC2 makes the request itself,
// so it cannot be tagged by the fleet request. An instance without a
// spot request ID has nothing to tag.
func (n *launchSpot) tagSpotRequest(ctx context.Context, sir string, tags map[string]string) error {
	if sir == "" || len(n.b.cfg.SpotTags) == 0 {
		return nil
	}
	_, err := n.b.ec2(n.b.cfg.Region).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{sir}, Tags: ec2Tags(tags)}, awsapi.RetryEventual)
	if err != nil {
		return fmt.Errorf("tag spot instance request %s of instance %s in %s: %w", sir, n.id, n.b.cfg.Region, err)
	}
	return nil
}

// Cleanup terminates the instance and deletes its leftover volumes, as
// for an on-demand instance, then deletes the fleet and the launch
// template.
func (n *launchSpot) Cleanup(ctx context.Context) error {
	region := n.b.cfg.Region
	err := n.launchInstance.Cleanup(ctx)
	if err != nil {
		// The fleet would terminate the instance: leave both for cleanup.
		return err
	}
	_, ferr := n.b.removeCreated(ctx, n.fleetPending, journal.Resource{Type: journal.Fleet, Region: region, ID: n.fleetID})
	_, terr := n.b.removeCreated(ctx, n.templatePending, journal.Resource{Type: journal.LaunchTemplate, Region: region, ID: n.templateID, Name: n.templateName})
	return errors.Join(ferr, terr)
}

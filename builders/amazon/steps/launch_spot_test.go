package steps

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// spotSpecOf prepares a minimal valid spot configuration changed by edit,
// as validate does, and returns the requests of its spot launch.
func spotSpecOf(t *testing.T, edit func(*amazon.SourceConfig)) *spotSpec {
	t.Helper()
	cfg := &amazon.SourceConfig{}
	cfg.Region, cfg.AMIName, cfg.InstanceType, cfg.SpotPrice = "us-east-1", "test-{{timestamp}}", "t3.micro", "auto"
	cfg.SourceAMI, cfg.SSHUsername = "ami-0123456789abcdef0", "ec2-user"
	edit(cfg)
	ctx := &check.Context{}
	cfg.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatalf("Prepare: %v", ctx.Diags)
	}
	b := newBuild(&builder.Env{RunID: "run-1", BuildName: "b"}, &Config{SourceConfig: *cfg, BuilderType: "amazon-ebs"}, nil)
	b.st.source.ID = cfg.SourceAMI
	b.st.keyName = "imgbuild_key"
	n := &launchSpot{launchInstance: launchInstance{b: b}, templateName: "lt-name", templateToken: "lt-token", fleetToken: "fleet-token"}
	spec, err := n.spotInputs([]string{"sg-1"})
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func tagsOf(ts []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestSpotRequestAuto: spot_price "auto" with spot_instance_types makes a
// launch template without a max price or instance type, and an instant
// fleet of one spot instance with one override per type, tagged with
// fleet_tags, from the template named, with the allocation strategy.
func TestSpotRequestAuto(t *testing.T) {
	spec := spotSpecOf(t, func(c *amazon.SourceConfig) {
		c.InstanceType, c.SpotInstanceTypes = "", []string{"t3.micro", "t3a.micro"}
		c.SpotTags, c.FleetTags = map[string]string{"spot": "yes"}, map[string]string{"fleet": "yes"}
		c.RunTags = map[string]string{"run": "yes"}
		c.SpotAllocationStrategy = "price-capacity-optimized"
	})
	d := spec.template.LaunchTemplateData
	if d.InstanceType != "" || d.InstanceMarketOptions == nil || d.InstanceMarketOptions.MarketType != types.MarketTypeSpot ||
		d.InstanceMarketOptions.SpotOptions == nil || d.InstanceMarketOptions.SpotOptions.MaxPrice != nil {
		t.Errorf("template data: type %q, market %+v", d.InstanceType, d.InstanceMarketOptions)
	}
	if aws.ToString(d.ImageId) != "ami-0123456789abcdef0" || aws.ToString(d.KeyName) != "imgbuild_key" || len(d.SecurityGroupIds) != 1 {
		t.Errorf("template data: image %s, key %s, groups %v", aws.ToString(d.ImageId), aws.ToString(d.KeyName), d.SecurityGroupIds)
	}
	if d.CapacityReservationSpecification != nil {
		t.Errorf("a spot launch carries no capacity reservation: %+v", d.CapacityReservationSpecification)
	}
	if aws.ToString(spec.template.LaunchTemplateName) != "lt-name" || aws.ToString(spec.template.ClientToken) != "lt-token" {
		t.Errorf("template name %s, token %s", aws.ToString(spec.template.LaunchTemplateName), aws.ToString(spec.template.ClientToken))
	}
	lt := spec.template.TagSpecifications
	if len(lt) != 1 || lt[0].ResourceType != types.ResourceTypeLaunchTemplate || tagsOf(lt[0].Tags)["spot"] != "yes" || tagsOf(lt[0].Tags)[tags.RunID] != "run-1" {
		t.Errorf("template tags %+v", lt)
	}
	var inst map[string]string
	for _, ts := range d.TagSpecifications {
		if ts.ResourceType == types.ResourceTypeInstance {
			inst = tagsOf(ts.Tags)
		}
	}
	if inst["run"] != "yes" || inst[tags.RunID] != "run-1" || inst[tags.Build] != "b" {
		t.Errorf("instance tags %v", inst)
	}
	f := spec.fleet
	if f.Type != types.FleetTypeInstant || aws.ToString(f.ClientToken) != "fleet-token" ||
		aws.ToInt32(f.TargetCapacitySpecification.TotalTargetCapacity) != 1 ||
		f.TargetCapacitySpecification.DefaultTargetCapacityType != types.DefaultTargetCapacityTypeSpot {
		t.Errorf("fleet %+v, capacity %+v", f, f.TargetCapacitySpecification)
	}
	c := f.LaunchTemplateConfigs
	if len(c) != 1 || aws.ToString(c[0].LaunchTemplateSpecification.LaunchTemplateName) != "lt-name" || aws.ToString(c[0].LaunchTemplateSpecification.Version) != "1" ||
		len(c[0].Overrides) != 2 || c[0].Overrides[0].InstanceType != "t3.micro" || c[0].Overrides[1].InstanceType != "t3a.micro" {
		t.Errorf("launch template configs %+v", c)
	}
	if f.SpotOptions == nil || f.SpotOptions.AllocationStrategy != types.SpotAllocationStrategyPriceCapacityOptimized {
		t.Errorf("spot options %+v", f.SpotOptions)
	}
	ft := f.TagSpecifications
	if len(ft) != 1 || ft[0].ResourceType != types.ResourceTypeFleet || tagsOf(ft[0].Tags)["fleet"] != "yes" || tagsOf(ft[0].Tags)[tags.RunID] != "run-1" {
		t.Errorf("fleet tags %+v", ft)
	}
}

// TestSpotRequestPrice: a numeric spot_price is the max price; with
// instance_type the template names it and the fleet has no override and
// EC2's default allocation strategy; a subnet goes on a network
// interface with the groups.
func TestSpotRequestPrice(t *testing.T) {
	spec := spotSpecOf(t, func(c *amazon.SourceConfig) {
		c.SpotPrice, c.AssociatePublicIPAddress = "0.05", aws.Bool(true)
	})
	d := spec.template.LaunchTemplateData
	if aws.ToString(d.InstanceMarketOptions.SpotOptions.MaxPrice) != "0.05" || d.InstanceType != "t3.micro" {
		t.Errorf("max price %v, type %q", d.InstanceMarketOptions.SpotOptions.MaxPrice, d.InstanceType)
	}
	if len(spec.fleet.LaunchTemplateConfigs[0].Overrides) != 0 || spec.fleet.SpotOptions != nil {
		t.Errorf("overrides %+v, spot options %+v", spec.fleet.LaunchTemplateConfigs[0].Overrides, spec.fleet.SpotOptions)
	}
	if len(d.NetworkInterfaces) != 1 || !aws.ToBool(d.NetworkInterfaces[0].AssociatePublicIpAddress) || len(d.NetworkInterfaces[0].Groups) != 1 || d.SecurityGroupIds != nil {
		t.Errorf("network interfaces %+v, groups %v", d.NetworkInterfaces, d.SecurityGroupIds)
	}
}

// TestSpotNode: a spot configuration's launch step is the spot launch.
func TestSpotNode(t *testing.T) {
	cfg := &Config{BuilderType: "amazon-ebs"}
	cfg.Region, cfg.SpotPrice = "us-east-1", "auto"
	b := newBuild(&builder.Env{RunID: "run-1", BuildName: "b"}, cfg, nil)
	node, err := b.Node(&builder.Step{Kind: Launch})
	if _, ok := node.(*launchSpot); !ok || err != nil {
		t.Errorf("launch node %T, %v; want *launchSpot", node, err)
	}
}

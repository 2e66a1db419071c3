package localcloud_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestInstantFleet: an instant fleet's spot instance starts pending and
// boots like a RunInstances one, a repeated ClientToken (of the fleet and
// of its launch template) answers what the first request made, and
// DeleteFleets with TerminateInstances terminates the instance.
func TestInstantFleet(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	c := client(cloud, "us-east-1", 1)
	ctx := context.Background()
	ami := linuxAMI(t, c)
	ltIn := &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("spot"), ClientToken: aws.String("lt-token"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(ami),
			InstanceMarketOptions: &types.LaunchTemplateInstanceMarketOptionsRequest{MarketType: types.MarketTypeSpot}}}
	lt, err := c.CreateLaunchTemplate(ctx, ltIn)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateLaunchTemplate(ctx, ltIn)
	if err != nil || aws.ToString(again.LaunchTemplate.LaunchTemplateId) != aws.ToString(lt.LaunchTemplate.LaunchTemplateId) {
		t.Fatalf("repeated launch template token: %v, %+v", err, again)
	}
	in := &ec2.CreateFleetInput{Type: types.FleetTypeInstant, ClientToken: aws.String("fleet-token"),
		LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
			LaunchTemplateSpecification: &types.FleetLaunchTemplateSpecificationRequest{LaunchTemplateName: aws.String("spot"), Version: aws.String("1")},
			Overrides:                   []types.FleetLaunchTemplateOverridesRequest{{InstanceType: types.InstanceTypeT3Micro}}}},
		TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1),
			DefaultTargetCapacityType: types.DefaultTargetCapacityTypeSpot},
	}
	out, err := c.CreateFleet(ctx, in)
	if err != nil || len(out.Instances) != 1 || len(out.Instances[0].InstanceIds) != 1 {
		t.Fatalf("create fleet: %v, %+v", err, out)
	}
	id := out.Instances[0].InstanceIds[0]
	if st := instanceState(t, c, id); st != types.InstanceStateNamePending {
		t.Errorf("fleet instance %s is %s at first, want pending", id, st)
	}
	eventually(t, "fleet instance running", func() bool { return instanceState(t, c, id) == types.InstanceStateNameRunning })
	inst := describeInstance(t, c, id)
	if inst.InstanceLifecycle != types.InstanceLifecycleTypeSpot || !strings.HasPrefix(aws.ToString(inst.SpotInstanceRequestId), "sir-") {
		t.Errorf("lifecycle %q, spot request %q; want a spot instance with its request", inst.InstanceLifecycle, aws.ToString(inst.SpotInstanceRequestId))
	}
	again2, err := c.CreateFleet(ctx, in)
	if err != nil || aws.ToString(again2.FleetId) != aws.ToString(out.FleetId) || len(again2.Instances) != 1 || again2.Instances[0].InstanceIds[0] != id {
		t.Fatalf("repeated fleet token: %v, %+v", err, again2)
	}
	if _, err := c.DeleteFleets(ctx, &ec2.DeleteFleetsInput{FleetIds: []string{aws.ToString(out.FleetId)}, TerminateInstances: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fleet instance terminated", func() bool { return instanceState(t, c, id) == types.InstanceStateNameTerminated })
}

// TestDeleteFleetAfterItsInstance: deleting an instant fleet (with
// TerminateInstances, as EC2 requires) whose instance is already
// terminated succeeds, as on EC2 (moto fails: it has nothing to
// terminate).
func TestDeleteFleetAfterItsInstance(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	c := client(cloud, "us-east-1", 1)
	ctx := context.Background()
	if _, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("spot"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(linuxAMI(t, c)), InstanceType: types.InstanceTypeT3Micro}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateFleet(ctx, &ec2.CreateFleetInput{Type: types.FleetTypeInstant,
		LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
			LaunchTemplateSpecification: &types.FleetLaunchTemplateSpecificationRequest{LaunchTemplateName: aws.String("spot"), Version: aws.String("1")}}},
		TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1),
			DefaultTargetCapacityType: types.DefaultTargetCapacityTypeSpot},
	})
	if err != nil || len(out.Instances) != 1 {
		t.Fatalf("create fleet: %v, %+v", err, out)
	}
	id := out.Instances[0].InstanceIds[0]
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "instance terminated", func() bool { return instanceState(t, c, id) == types.InstanceStateNameTerminated })
	d, err := c.DeleteFleets(ctx, &ec2.DeleteFleetsInput{FleetIds: []string{aws.ToString(out.FleetId)}, TerminateInstances: aws.Bool(true)})
	if err != nil || len(d.SuccessfulFleetDeletions) != 1 {
		t.Fatalf("delete fleet: %v, %+v", err, d)
	}
}

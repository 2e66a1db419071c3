package sweep

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/localcloud"
)

// TestSpotResources: the launch template and the instant fleet of a spot
// launch are found by tags, resolved from their intents (template by
// name, fleet by tags), and deleted (the fleet after its instance), after
// which a tag sweep finds nothing and a second delete is a no-op.
func TestSpotResources(t *testing.T) {
	sess := youngCloud(t, 0)
	c := sess.EC2(localcloud.Region)
	ctx := context.Background()
	run := map[string]string{tagRunID: "run-spot", tagBuild: "b"}
	tags := []types.Tag{{Key: aws.String(tagRunID), Value: aws.String("run-spot")}, {Key: aws.String(tagBuild), Value: aws.String("b")}}
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("no source image: %v", err)
	}
	lt, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("imgbuild-spot_run"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: tags}},
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro,
			TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeInstance, Tags: tags}}}})
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := c.CreateFleet(ctx, &ec2.CreateFleetInput{Type: types.FleetTypeInstant,
		LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{LaunchTemplateSpecification: &types.FleetLaunchTemplateSpecificationRequest{
			LaunchTemplateName: aws.String("imgbuild-spot_run"), Version: aws.String("1")}}},
		TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1),
			DefaultTargetCapacityType: types.DefaultTargetCapacityTypeSpot},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeFleet, Tags: tags}},
	})
	if err != nil || len(fleet.Instances) != 1 {
		t.Fatalf("create fleet: %v, %+v", err, fleet)
	}

	found, _, err := FindByTags(ctx, sess, []string{localcloud.Region}, "run-spot", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	byType := map[journal.Type]string{}
	for _, r := range found {
		byType[r.Type] = r.ID
	}
	if byType[journal.Instance] != fleet.Instances[0].InstanceIds[0] || byType[journal.Fleet] != aws.ToString(fleet.FleetId) ||
		byType[journal.LaunchTemplate] != aws.ToString(lt.LaunchTemplate.LaunchTemplateId) {
		t.Fatalf("found %+v", found)
	}

	ltR, err := Resolve(ctx, sess, journal.Resource{Type: journal.LaunchTemplate, Region: localcloud.Region, Name: "imgbuild-spot_run", Tags: run})
	if err != nil || ltR.ID != aws.ToString(lt.LaunchTemplate.LaunchTemplateId) {
		t.Fatalf("resolve launch template: %+v, %v", ltR, err)
	}
	fleetR, err := Resolve(ctx, sess, journal.Resource{Type: journal.Fleet, Region: localcloud.Region, Tags: run})
	if err != nil || fleetR.ID != aws.ToString(fleet.FleetId) {
		t.Fatalf("resolve fleet: %+v, %v", fleetR, err)
	}
	for _, r := range found { // in deletion order: the instance first
		if err := Delete(ctx, sess, r); err != nil {
			t.Fatal(err)
		}
		if err := Delete(ctx, sess, r); err != nil {
			t.Errorf("second delete of %s %s: %v", r.Type, r.ID, err)
		}
	}
	if left, _, err := FindByTags(ctx, sess, []string{localcloud.Region}, "run-spot", 0, time.Now()); err != nil || len(left) > 0 {
		t.Errorf("left after deleting: %+v, %v", left, err)
	}
	if _, err := Resolve(ctx, sess, journal.Resource{Type: journal.Fleet, Region: localcloud.Region, Tags: run}); !errors.Is(err, ErrNotFound) {
		t.Errorf("resolve a deleted fleet: %v, want ErrNotFound", err)
	}
}

package ebsbuild

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// Cleanup terminates the instance, waits until it is terminated and
// deletes the volumes of this build it left behind.
func (n *launchInstance) Cleanup(ctx context.Context) error {
	region := n.b.cfg.Region
	c := n.b.ec2(region)
	if n.id == "" && n.ref != 0 {
		if err := n.adopt(ctx, c); err != nil {
			return err
		}
	}
	if n.id == "" {
		return nil
	}
	_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{n.id}})
	if err != nil && !awsapi.IsGone(err) {
		return fmt.Errorf("terminate instance %s in %s, it may be left running: %w", n.id, region, err)
	}
	if err := n.b.waiter(region).InstanceTerminated(ctx, n.id); err != nil {
		return fmt.Errorf("instance %s in %s may be left behind: %w", n.id, region, err)
	}
	if err := n.b.env.Journal.Deleted(journal.Instance, region, n.id); err != nil {
		return err
	}
	return n.deleteVolumes(ctx, c)
}

// adopt finds an instance launched with the client token whose
// RunInstances answer was lost, or records that there is none.
func (n *launchInstance) adopt(ctx context.Context, c *ec2.Client) error {
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{
		Filters: []types.Filter{{Name: aws.String("client-token"), Values: []string{n.token}}},
	})
	if err != nil {
		return fmt.Errorf("look for the instance with client token %s in %s, it may be left running: %w", n.token, n.b.cfg.Region, err)
	}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			n.id = aws.ToString(inst.InstanceId)
			return n.b.env.Journal.Created(n.ref, n.id)
		}
	}
	return n.b.env.Journal.NotCreated(n.ref)
}

// deleteVolumes deletes the available volumes tagged with this build's
// run tags: launch volumes without delete_on_termination.
func (n *launchInstance) deleteVolumes(ctx context.Context, c *ec2.Client) error {
	filters := append(tagFilters(n.b.env.RunTags()),
		types.Filter{Name: aws.String("status"), Values: []string{"available"}})
	out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: filters})
	if err != nil {
		return fmt.Errorf("list the volumes of instance %s in %s, some may be left behind: %w", n.id, n.b.cfg.Region, err)
	}
	var errs []error
	for _, v := range out.Volumes {
		id := aws.ToString(v.VolumeId)
		if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: v.VolumeId}); err != nil && !awsapi.IsGone(err) {
			errs = append(errs, fmt.Errorf("delete volume %s in %s, it may be left behind: %w", id, n.b.cfg.Region, err))
		}
	}
	return errors.Join(errs...)
}

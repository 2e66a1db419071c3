package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// stopTries is how often StopInstances is tried while EC2 does not know
// the instance yet (eventual consistency), first delay stopRetryDelay.
const (
	stopTries      = 6
	stopRetryDelay = time.Second
)

// stopInstance stops the instance (or, with disable_stop_instance, waits
// for the guest to stop itself), waits until it is stopped, then sets the
// ENA and SR-IOV attributes the image should carry. It creates nothing.
type stopInstance struct{ b *build }

// Run stops the instance.
func (n *stopInstance) Run(ctx context.Context) error {
	b := n.b
	id, region := b.st.instance.ID, b.cfg.Region
	if b.cfg.DisableStopInstance {
		b.say("waiting for instance %s to stop itself", id)
	} else if err := n.stop(ctx); err != nil {
		return err
	}
	if _, err := b.waiter(region).InstanceStopped(ctx, id); err != nil {
		return err
	}
	return b.setInstanceFeatures(ctx)
}

// stop calls StopInstances, retrying NotFound a few times with backoff.
func (n *stopInstance) stop(ctx context.Context) error {
	b := n.b
	id, region := b.st.instance.ID, b.cfg.Region
	delay := stopRetryDelay
	for try := 1; ; try++ {
		_, err := b.ec2(region).StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
		if err == nil {
			b.say("stopping instance %s", id)
			return nil
		}
		if !awsapi.IsNotFound(err) || try == stopTries {
			return fmt.Errorf("stop instance %s in %s: %w", id, region, err)
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay *= 2
	}
}

// setInstanceFeatures sets ena_support and sriov_support on the instance
// before the image is created from it, so that the image inherits them.
func (b *build) setInstanceFeatures(ctx context.Context) error {
	id, region := b.st.instance.ID, b.cfg.Region
	c := b.ec2(region)
	if ena := b.cfg.AMIENASupport; ena != nil {
		if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
			InstanceId: aws.String(id), EnaSupport: &types.AttributeBooleanValue{Value: ena},
		}, awsapi.RetryEventual); err != nil {
			return fmt.Errorf("set ena_support on instance %s in %s: %w", id, region, err)
		}
	}
	if b.cfg.AMISriovNetSupport {
		if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
			InstanceId: aws.String(id), SriovNetSupport: &types.AttributeValue{Value: aws.String("simple")},
		}, awsapi.RetryEventual); err != nil {
			return fmt.Errorf("set sriov_support on instance %s in %s: %w", id, region, err)
		}
	}
	return nil
}

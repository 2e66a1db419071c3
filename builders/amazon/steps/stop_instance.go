package steps

import (
	"context"
	"errors"
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

// stopInstance stops the instance (or, with self, waits for the guest to
// stop itself: disable_stop_instance or sysprep), waits until it is
// stopped, then sets the ENA and SR-IOV attributes the image should carry.
// It creates nothing.
type stopInstance struct {
	b    *build
	self bool
}

// Run stops the instance.
func (n *stopInstance) Run(ctx context.Context) error {
	b := n.b
	id, region := b.st.instance.ID, b.cfg.Region
	b.clearAuthorizedKeys(ctx)
	if !n.self && b.cfg.IsSpotInstance() {
		// EC2 cannot stop a one-time spot instance: as in Packer, the
		// image is made from the running instance. Validate refuses
		// ena_support and sriov_support, which need it stopped.
		b.say("spot instance %s is not stopped: EC2 cannot stop a one-time spot instance", id)
		return nil
	}
	if n.self {
		b.say("waiting for instance %s to stop itself (StopInstances is not called)", id)
	} else if err := n.stop(ctx); err != nil {
		return err
	}
	if _, err := b.waiter(region).InstanceStopped(ctx, id); err != nil {
		var te *awsapi.TimeoutError
		if n.self && errors.As(err, &te) {
			return fmt.Errorf("instance %s in %s did not stop by itself within %s (timeouts.instance_stopped); it is still %s. "+
				"A Sysprep that fails or waits leaves Windows running: check the agent's Sysprep log on the instance "+
				"(EC2Launch v2: C:\\ProgramData\\Amazon\\EC2Launch\\log\\agent.log; EC2Launch v1: C:\\ProgramData\\Amazon\\EC2-Windows\\Launch\\Log; "+
				"EC2Config: C:\\Program Files\\Amazon\\Ec2ConfigService\\Logs\\Ec2Config.log) and C:\\Windows\\System32\\Sysprep\\Panther\\setupact.log, "+
				"and its console output (aws ec2 get-console-output --instance-id %s --region %s). The instance is terminated by cleanup: %w",
				id, region, te.Waited.Round(time.Second), te.LastState, id, region, err)
		}
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

package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// SecurityGroupWait bounds the retries of DeleteSecurityGroup while EC2
// reports DependencyViolation: a terminated instance's network interface
// takes a while to detach.
var SecurityGroupWait = 3 * time.Minute

// ErrComplete is matched (errors.Is) by the error Delete returns for an
// image or snapshot tagged imgbuild:complete: the output of a finished
// build, which cleanup never removes.
var ErrComplete = errors.New("tagged imgbuild:complete: the output of a finished build")

// Delete removes r, which must have an ID, and waits until it no longer
// holds anything else (an instance is terminated). A resource already gone
// counts as removed. Errors name the resource, its ID and region.
func Delete(ctx context.Context, sess *awsapi.Session, r journal.Resource) error {
	return DeleteWaiting(ctx, sess, r, awsapi.Timeouts{})
}

// DeleteWaiting is Delete with the timeouts of the waits it makes (an
// instance's termination); zero fields take awsapi's defaults.
func DeleteWaiting(ctx context.Context, sess *awsapi.Session, r journal.Resource, t awsapi.Timeouts) error {
	if r.ID == "" {
		return fmt.Errorf("delete %s in %s: no id; resolve it first", r.Type, r.Region)
	}
	var err error
	switch c := sess.EC2(r.Region); r.Type {
	case journal.Instance:
		err = deleteInstance(ctx, c, r.ID, t)
	case journal.SecurityGroup:
		err = deleteSecurityGroup(ctx, c, r.ID)
	case journal.KeyPair:
		err = deleteKeyPair(ctx, c, r.ID, r.Name)
	case journal.Image:
		err = deleteImage(ctx, c, r.ID)
	case journal.Snapshot:
		err = deleteSnapshot(ctx, c, r.ID)
	case journal.Volume:
		_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(r.ID)})
	case journal.BucketObject:
		err = deleteObject(ctx, sess.S3(r.Region), r.ID)
	default:
		return fmt.Errorf("delete %s %s in %s: imgbuild does not know how to remove this type; remove it by hand", r.Type, r.ID, r.Region)
	}
	if err != nil && !awsapi.IsGone(err) {
		return fmt.Errorf("delete %s %s in %s: %w", r.Type, r.ID, r.Region, err)
	}
	return nil
}

// deleteInstance terminates an instance and waits until it is terminated.
func deleteInstance(ctx context.Context, c *ec2.Client, id string, t awsapi.Timeouts) error {
	_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil && !awsapi.IsGone(err) {
		return err
	}
	// NotFound from TerminateInstances does not prove the instance is gone
	// (aws.md 3.9); the waiter treats a missing instance as terminated.
	return awsapi.NewWaiter(c, t).InstanceTerminated(ctx, id)
}

// deleteSecurityGroup deletes a group, retrying while a network interface
// still uses it.
func deleteSecurityGroup(ctx context.Context, c *ec2.Client, id string) error {
	return awsapi.Wait(ctx, awsapi.WaitSpec{
		What:       "security group " + id + " to be free (DependencyViolation)",
		Timeout:    SecurityGroupWait,
		FirstDelay: time.Second,
		MaxDelay:   10 * time.Second,
		Check: func(ctx context.Context) (bool, string, error) {
			_, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			if awsapi.ErrorCode(err) == "DependencyViolation" {
				return false, "in use: " + awsapi.ErrorMessage(err), nil
			}
			return err == nil || awsapi.IsGone(err), "deleted", err
		},
	})
}

// deleteKeyPair deletes a key pair by name, which every EC2 implementation
// honours (moto ignores KeyPairId): the journaled name, else the ID when it
// is a name, else the name a key pair ID (key-...) is looked up to.
func deleteKeyPair(ctx context.Context, c *ec2.Client, id, name string) error {
	if name == "" && !strings.HasPrefix(id, "key-") {
		name = id
	}
	if name == "" {
		out, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyPairIds: []string{id}})
		if err != nil {
			return err
		}
		if len(out.KeyPairs) == 0 {
			return nil
		}
		name = aws.ToString(out.KeyPairs[0].KeyName)
	}
	_, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(name)})
	return err
}

// deleteSnapshot deletes a snapshot unless it is a finished build's output.
func deleteSnapshot(ctx context.Context, c *ec2.Client, id string) error {
	out, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{id}})
	if err != nil {
		return err
	}
	if len(out.Snapshots) == 0 {
		return nil
	}
	if _, ok := tagMap(out.Snapshots[0].Tags)[tagComplete]; ok {
		return ErrComplete
	}
	_, err = c.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
	return err
}

// deleteObject deletes "<bucket>/<key>".
func deleteObject(ctx context.Context, c *s3.Client, id string) error {
	bucket, key, ok := strings.Cut(id, "/")
	if !ok || bucket == "" || key == "" {
		return fmt.Errorf("object id %q is not <bucket>/<key>", id)
	}
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err
}

package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/lease"
	"github.com/imgbuild/imgbuild/internal/tags"
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
// instance's termination, the NotFound grace); zero fields take awsapi's
// defaults. A NotFound answer to a call naming r by its ID counts as
// "gone" only once a describe filtered by the ID and r's run tag (when
// r.Tags has it) confirms it (gone.go): until then, within the NotFound
// grace, the resource may just be too young to be visible.
func DeleteWaiting(ctx context.Context, sess *awsapi.Session, r journal.Resource, t awsapi.Timeouts) error {
	if r.ID == "" {
		return fmt.Errorf("delete %s in %s: no id; resolve it first", r.Type, r.Region)
	}
	var err error
	c := sess.EC2(r.Region)
	switch r.Type {
	case journal.Instance:
		err = deleteInstance(ctx, c, r, t)
	case journal.BucketObject:
		if err = deleteObject(ctx, sess.S3(r.Region), r.ID); awsapi.IsGone(err) {
			err = nil // S3 is consistent: a missing object is gone
		}
	case journal.BundleTask:
		if err = cancelBundleTask(ctx, c, r.ID); err == nil && r.Name != "" {
			err = deleteBundleObjects(ctx, sess.S3(r.Region), r.Name)
		}
	case journal.Lease:
		// Only while the run that journaled it still holds it: another
		// runner may hold it now.
		run := r.Tags[tags.RunID]
		err = lease.Remove(ctx, sess.SSM(r.Region), r.ID, func(holder string) bool { return lease.HeldByRun(holder, run) })
	case journal.Fleet:
		err = deleteFleet(ctx, c, r.ID)
	case journal.SecurityGroup, journal.KeyPair, journal.Image, journal.Snapshot, journal.Volume, journal.LaunchTemplate:
		err = deleteConfirmed(ctx, c, r, graceOf(t), func(ctx context.Context) error { return deleteEC2(ctx, c, r) })
	default:
		return fmt.Errorf("delete %s %s in %s: imgbuild does not know how to remove this type; remove it by hand", r.Type, r.ID, r.Region)
	}
	if err != nil {
		return fmt.Errorf("delete %s %s in %s: %w", r.Type, r.ID, r.Region, err)
	}
	return nil
}

// cancelBundleTask cancels a BundleInstance task; a task that has
// finished or that EC2 no longer lists needs nothing.
func cancelBundleTask(ctx context.Context, c *ec2.Client, id string) error {
	out, err := c.DescribeBundleTasks(ctx, &ec2.DescribeBundleTasksInput{BundleIds: []string{id}})
	if awsapi.IsGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, t := range out.BundleTasks {
		switch t.State {
		case types.BundleTaskStateComplete, types.BundleTaskStateFailed, types.BundleTaskStateCancelling:
			return nil
		}
	}
	if len(out.BundleTasks) == 0 {
		return nil
	}
	_, err = c.CancelBundleTask(ctx, &ec2.CancelBundleTaskInput{BundleId: aws.String(id)})
	if awsapi.IsGone(err) {
		return nil
	}
	return err
}

// deleteBundleObjects deletes the objects of the bundle named bucketPrefix
// ("bucket/key-prefix": its parts and manifest) that a task left.
func deleteBundleObjects(ctx context.Context, c *s3.Client, bucketPrefix string) error {
	bucket, prefix, _ := strings.Cut(bucketPrefix, "/")
	ids, err := BundleObjects(ctx, c, bucket, prefix)
	if awsapi.IsGone(err) {
		return nil
	}
	for _, id := range ids {
		if err := deleteObject(ctx, c, id); err != nil && !awsapi.IsGone(err) {
			return err
		}
	}
	return err
}

// BundleObjects lists the objects of the bundle named prefix in bucket
// (its parts and manifest, prefix.*) as "bucket/key" IDs.
func BundleObjects(ctx context.Context, c *s3.Client, bucket, prefix string) ([]string, error) {
	var ids []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + ".")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ids, fmt.Errorf("list the bundle s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			ids = append(ids, bucket+"/"+aws.ToString(o.Key))
		}
	}
	return ids, nil
}

// deleteEC2 makes one attempt at deleting an EC2 resource other than an
// instance. A NotFound is returned as such, for deleteConfirmed to check.
func deleteEC2(ctx context.Context, c *ec2.Client, r journal.Resource) error {
	switch r.Type {
	case journal.SecurityGroup:
		return deleteSecurityGroup(ctx, c, r.ID)
	case journal.KeyPair:
		return deleteKeyPair(ctx, c, r.ID, r.Name)
	case journal.Image:
		return deleteImage(ctx, c, r)
	case journal.Snapshot:
		return deleteSnapshot(ctx, c, r.ID)
	case journal.LaunchTemplate:
		return deleteLaunchTemplate(ctx, c, r.ID)
	}
	_, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(r.ID)})
	return err
}

// deleteInstance terminates an instance and waits until it is terminated.
// TerminateInstances answering NotFound does not prove the instance is
// gone (aws.md 3.9): deleteConfirmed tries again while a filtered
// describe lists it, and when the instance was that young, its
// termination is confirmed the same way, since the by-ID waiter counts an
// instance it cannot see as terminated.
func deleteInstance(ctx context.Context, c *ec2.Client, r journal.Resource, t awsapi.Timeouts) error {
	var young, accepted bool
	err := deleteConfirmed(ctx, c, r, graceOf(t), func(ctx context.Context) error {
		_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{r.ID}})
		young = young || awsapi.IsGone(err)
		accepted = err == nil
		return err
	})
	if err != nil || !accepted {
		return err // failed, or confirmed gone
	}
	if err := awsapi.NewWaiter(c, t).InstanceTerminated(ctx, r.ID); err != nil {
		return err
	}
	if !young {
		return nil
	}
	return instanceGone(ctx, c, r, cmp.Or(t.InstanceTerminated, awsapi.DefaultTimeouts().InstanceTerminated))
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
			return err == nil, "deleted", err
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
		return notListed("InvalidSnapshot.NotFound", id)
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

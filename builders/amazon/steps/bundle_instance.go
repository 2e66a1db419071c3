package steps

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/sweep"
)

// policyLifetime is how long the upload policy stays valid: AWS asks for
// 12 hours or more; a bundle of a large C: drive takes hours.
const policyLifetime = 24 * time.Hour

// bundleCadence paces the describes of a bundle task: every second at
// first, then every fifth of the time waited, at most every 30 s (a
// bundle of a C: drive takes hours).
var bundleCadence = awsapi.Cadence{Min: time.Second, Max: 30 * time.Second}

// bundleInstance has EC2 bundle a Windows instance (BundleInstance, which
// AWS lists as legacy): it signs an upload policy for the bucket and
// prefix with the secret key, starts the task, journals it, follows it
// through its states with its progress, and journals the objects it wrote.
func (n *bundleVolume) bundleInstance(ctx context.Context, prefix string) error {
	b, bc, region := n.b, n.b.cfg.Bundle, n.b.cfg.Region
	b.say("warning: AWS lists BundleInstance as legacy (\"no longer supported\"; new Windows AMIs are EBS-backed: use amazon-ebs); bundling %s with it", b.st.instance.ID)
	b.say("x509_cert_path and x509_key_path are not used: EC2 bundles a Windows instance with its own keys")
	creds, err := b.sess.Credentials(ctx)
	if err != nil {
		return fmt.Errorf("read the credentials to sign the upload policy: %w", err)
	}
	if b.env.AddSecret != nil {
		b.env.AddSecret(creds.SecretAccessKey)
	}
	doc, sig, err := uploadPolicy(bc.Bucket, bc.KeyPrefix+prefix, creds.SecretAccessKey, time.Now().Add(policyLifetime))
	if err != nil {
		return err
	}
	// Name is where the task writes: cleanup after a crash deletes what
	// is there.
	ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.BundleTask, Region: region, Build: b.env.BuildName,
		Parent: b.st.instance.ID, Name: bc.Bucket + "/" + bc.KeyPrefix + prefix})
	if err != nil {
		return err
	}
	out, err := b.ec2(region).BundleInstance(ctx, &ec2.BundleInstanceInput{
		InstanceId: aws.String(b.st.instance.ID),
		Storage: &types.Storage{S3: &types.S3Storage{
			Bucket: aws.String(bc.Bucket), Prefix: aws.String(bc.KeyPrefix + prefix), AWSAccessKeyId: aws.String(creds.AccessKeyID),
			UploadPolicy: doc, UploadPolicySignature: aws.String(sig), // the SDK sends a blob base64-encoded
		}},
	})
	if err != nil {
		_ = b.env.Journal.NotCreated(ref)
		return fmt.Errorf("BundleInstance of %s in %s: %w", b.st.instance.ID, region, err)
	}
	task := aws.ToString(out.BundleTask.BundleId)
	b.st.bundle.task = task
	if err := b.env.Journal.Created(ref, task); err != nil {
		return err
	}
	b.say("bundle task %s started for %s into s3://%s/%s%s", task, b.st.instance.ID, bc.Bucket, bc.KeyPrefix, prefix)
	if err := n.follow(ctx, task); err != nil {
		return err
	}
	// The objects are journaled before the task is closed, so that a
	// crash in between leaves them to the task's cleanup.
	if err := n.adoptObjects(ctx, bc.KeyPrefix+prefix); err != nil {
		return err
	}
	b.st.bundle.task = ""
	if err := b.env.Journal.Deleted(journal.BundleTask, region, task); err != nil {
		return err
	}
	b.st.bundle.manifest = bc.Bucket + "/" + bc.KeyPrefix + prefix + ".manifest.xml"
	return nil
}

// uploadPolicy returns the upload policy document BundleInstance takes
// (JSON; it travels base64-encoded) and its signature: base64 of
// HMAC-SHA1, keyed with the secret key, of the base64 policy.
func uploadPolicy(bucket, prefix, secret string, expires time.Time) (doc []byte, signature string, err error) {
	doc, err = json.Marshal(map[string]any{
		"expiration": expires.UTC().Format("2006-01-02T15:04:05.000Z"),
		"conditions": []any{
			map[string]string{"bucket": bucket},
			map[string]string{"acl": "ec2-bundle-read"},
			[]string{"starts-with", "$key", prefix},
		},
	})
	if err != nil {
		return nil, "", err
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(base64.StdEncoding.EncodeToString(doc)))
	return doc, base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// follow waits until the task is complete, showing its state and
// progress; a failed task's error names its code and message.
func (n *bundleVolume) follow(ctx context.Context, task string) error {
	b, region := n.b, n.b.cfg.Region
	last, start := "", time.Now()
	limit := b.timeouts.ImageAvailable * 4
	for {
		out, err := b.ec2(region).DescribeBundleTasks(ctx, &ec2.DescribeBundleTasksInput{BundleIds: []string{task}})
		if err != nil {
			return fmt.Errorf("describe bundle task %s in %s: %w", task, region, err)
		}
		if len(out.BundleTasks) == 1 {
			t := out.BundleTasks[0]
			state := string(t.State) + " " + aws.ToString(t.Progress)
			if state != last {
				b.say("bundle task %s: %s", task, state)
				last = state
			}
			if b.env.Progress != nil {
				var pct int
				fmt.Sscanf(aws.ToString(t.Progress), "%d%%", &pct)
				b.env.Progress("bundle task "+task, pct)
			}
			switch t.State {
			case types.BundleTaskStateComplete:
				return nil
			case types.BundleTaskStateFailed:
				msg := "no reason given"
				if t.BundleTaskError != nil {
					msg = aws.ToString(t.BundleTaskError.Code) + ": " + aws.ToString(t.BundleTaskError.Message)
				}
				return fmt.Errorf("bundle task %s of instance %s in %s failed: %s; cleanup deletes what it wrote and terminates the instance", task, b.st.instance.ID, region, msg)
			}
		}
		elapsed := time.Since(start)
		if elapsed > limit {
			return fmt.Errorf("bundle task %s of instance %s in %s is still %q after %s; cleanup cancels it", task, b.st.instance.ID, region, last, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(bundleCadence.Next(elapsed)):
		}
	}
}

// adoptObjects journals the objects of the bundle named prefix (its
// parts and manifest, <prefix>.*) that a task or the AMI tools wrote, so
// that cleanup and a later `imgbuild cleanup` find them.
func (n *bundleVolume) adoptObjects(ctx context.Context, prefix string) error {
	b, bc, region := n.b, n.b.cfg.Bundle, n.b.cfg.Region
	ids, err := sweep.BundleObjects(ctx, b.sess.S3(region), bc.Bucket, prefix)
	if err != nil {
		return err
	}
	for _, id := range ids {
		_, key, _ := strings.Cut(id, "/")
		ref, err := b.env.Journal.Intent(journal.Resource{Type: journal.BucketObject, Region: region, Build: b.env.BuildName, ID: id, Name: key})
		if err != nil {
			return err
		}
		b.st.bundle.add(id)
		if err := b.env.Journal.Created(ref, id); err != nil {
			return err
		}
	}
	return nil
}

// cancelTask cancels a bundle task that has not finished (an interrupt or
// a failure), and adopts what it wrote for deletion.
func (n *bundleVolume) cancelTask(ctx context.Context) error {
	b, region, task := n.b, n.b.cfg.Region, n.b.st.bundle.task
	if task == "" {
		return nil
	}
	if _, err := b.ec2(region).CancelBundleTask(ctx, &ec2.CancelBundleTaskInput{BundleId: aws.String(task)}); err != nil {
		return fmt.Errorf("cancel bundle task %s in %s; cancel it with `aws ec2 cancel-bundle-task --bundle-id %s --region %s`: %w", task, region, task, region, err)
	}
	b.say("cancelled bundle task %s", task)
	b.st.bundle.task = ""
	if err := b.env.Journal.Deleted(journal.BundleTask, region, task); err != nil {
		return err
	}
	return n.adoptObjects(ctx, b.cfg.Bundle.KeyPrefix+b.st.bundle.prefix)
}

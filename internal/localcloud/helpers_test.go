package localcloud_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// fast returns test settings: short but observable state durations.
func fast() localcloud.Settings {
	s, _ := localcloud.ProfileSettings(localcloud.Instant)
	s.Boot, s.Stop, s.Terminate = time.Second, time.Second, time.Second
	s.Image, s.Copy = time.Second, 1500*time.Millisecond
	s.SSH = false
	s.Seed = 1
	return s
}

// client returns an EC2 client for region; attempts 0 keeps the SDK's
// standard retryer, 1 disables retries.
func client(c *localcloud.Cloud, region string, attempts int) *ec2.Client {
	cfg := testenv.AWSConfig(c.URL(), region)
	if attempts > 0 {
		cfg.Retryer = func() aws.Retryer {
			return retry.AddWithMaxAttempts(retry.NewStandard(), attempts)
		}
	}
	return ec2.NewFromConfig(cfg)
}

// eventually polls cond until it holds or 15 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// errorCode returns the AWS error code of err ("" when none).
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// linuxAMI returns one of moto's built-in Linux AMIs.
func linuxAMI(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"amzn*"}}},
	})
	if err != nil || len(out.Images) == 0 {
		t.Fatalf("find a built-in AMI: %v (%d images)", err, len(out.Images))
	}
	return *out.Images[0].ImageId
}

// launch runs one instance and returns its ID and the RunInstances state.
func launch(t *testing.T, c *ec2.Client, key string) (string, types.InstanceStateName) {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(linuxAMI(t, c)), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro}
	if key != "" {
		in.KeyName = aws.String(key)
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatalf("run instance: %v", err)
	}
	return *out.Instances[0].InstanceId, out.Instances[0].State.Name
}

func instanceState(t *testing.T, c *ec2.Client, id string) types.InstanceStateName {
	t.Helper()
	i := describeInstance(t, c, id)
	return i.State.Name
}

func describeInstance(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("describe %s: %v", id, err)
	}
	return out.Reservations[0].Instances[0]
}

func describeImage(t *testing.T, c *ec2.Client, id string) types.Image {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("describe image %s: %v", id, err)
	}
	return out.Images[0]
}

func imageState(t *testing.T, c *ec2.Client, id string) types.ImageState {
	t.Helper()
	return describeImage(t, c, id).State
}

// createImage launches an instance, waits for running and images it.
func createImage(t *testing.T, c *ec2.Client, name string, tags ...types.TagSpecification) string {
	t.Helper()
	id, _ := launch(t, c, "")
	eventually(t, "instance running", func() bool { return instanceState(t, c, id) == types.InstanceStateNameRunning })
	out, err := c.CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String(name), TagSpecifications: tags})
	if err != nil {
		t.Fatalf("create image: %v", err)
	}
	return *out.ImageId
}

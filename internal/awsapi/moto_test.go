package awsapi

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

func TestMotoBuildFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	isolateEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", testenv.PlainMoto(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := NewSession(ctx, Access{Region: "us-east-1", AccessKey: "testing", SecretKey: "testing"},
		WithLimiter(NewLimiter()))
	if err != nil {
		t.Fatal(err)
	}
	c := s.EC2("")
	w := NewWaiter(c, Timeouts{NotFoundGrace: 5 * time.Second})
	var progress []int
	w.Progress = func(_, _ string, pct int) { progress = append(progress, pct) }

	images, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, MaxResults: aws.Int32(5)})
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("find a base image: %v", err)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId,
		InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	if inst, err := w.InstanceRunning(ctx, id); err != nil || inst.State.Name != types.InstanceStateNameRunning {
		t.Fatalf("InstanceRunning(%s) = %v, %v", id, inst.State, err)
	}
	created, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("imgbuild-test")})
	if err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	// A missing ID in the same batch does not fail the others' Describe.
	missing := make(chan error)
	go func() {
		_, err := NewWaiter(c, Timeouts{NotFoundGrace: 5 * time.Second}).ImageAvailable(ctx, "ami-0123456789abcdef0")
		missing <- err
	}()
	img, err := w.ImageAvailable(ctx, aws.ToString(created.ImageId))
	if err != nil || img.State != types.ImageStateAvailable {
		t.Fatalf("ImageAvailable = %v, %v", img.State, err)
	}
	if err := <-missing; !IsNotFound(err) {
		t.Errorf("wait for a missing image: %v, want NotFound after the grace", err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 100 {
		t.Errorf("progress reports %v, want the last at 100", progress)
	}
	snaps := imageSnapshotIDs(img.Image)
	if len(snaps) == 0 {
		t.Fatalf("image %s has no snapshots", aws.ToString(img.ImageId))
	}
	if _, err := w.SnapshotCompleted(ctx, snaps[0]); err != nil {
		t.Errorf("SnapshotCompleted: %v", err)
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	if err := w.InstanceTerminated(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := s.Limiter().CountsFor("EC2", "us-east-1", "RunInstances").Requests; got != 1 {
		t.Errorf("limiter counted %d RunInstances, want 1", got)
	}
}

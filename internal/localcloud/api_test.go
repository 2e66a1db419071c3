package localcloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

func TestDeprecationAndDeregistrationProtection(t *testing.T) {
	t.Parallel()
	s := fast()
	s.Boot, s.Image = 0, 0
	cloud := testenv.LocalCloud(t, s)
	c := client(cloud, "us-east-1", 0)
	ctx := context.Background()
	ami := createImage(t, c, "lifecycle-1")

	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	if _, err := c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(ami), DeprecateAt: aws.Time(at)}); err != nil {
		t.Fatal(err)
	}
	got, err := time.Parse(time.RFC3339, aws.ToString(describeImage(t, c, ami).DeprecationTime))
	if err != nil || !got.Equal(at) {
		t.Errorf("DeprecationTime %v (%v), want %v", got, err, at)
	}
	if _, err := c.DisableImageDeprecation(ctx, &ec2.DisableImageDeprecationInput{ImageId: aws.String(ami)}); err != nil {
		t.Fatal(err)
	}
	if d := describeImage(t, c, ami).DeprecationTime; d != nil {
		t.Errorf("DeprecationTime %s after DisableImageDeprecation", *d)
	}
	_, err = c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String("ami-0000000000000000f"), DeprecateAt: aws.Time(at)})
	if errorCode(err) != "InvalidAMIID.NotFound" {
		t.Errorf("deprecating a missing image: %v, want InvalidAMIID.NotFound", err)
	}

	if _, err := c.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(ami)}); err != nil {
		t.Fatal(err)
	}
	if p := aws.ToString(describeImage(t, c, ami).DeregistrationProtection); p != "enabled-without-cooldown" {
		t.Errorf("DeregistrationProtection %q", p)
	}
	_, err = c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami)})
	if errorCode(err) != "OperationNotPermitted" {
		t.Errorf("deregistering a protected image: %v, want OperationNotPermitted", err)
	}
	if _, err := c.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(ami)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami)}); err != nil {
		t.Errorf("deregister after disabling protection: %v", err)
	}
}

func TestHostileThrottling(t *testing.T) {
	t.Parallel()
	s := fast()
	s.Boot, s.Throttle = 0, true
	cloud := testenv.LocalCloud(t, s)
	noRetry, retrying := client(cloud, "us-east-1", 1), client(cloud, "us-east-1", 10)
	ctx := context.Background()
	// RunInstances has a bucket of 5 refilled at 2/s: 12 quick calls must
	// hit it.
	var throttled int
	for range 12 {
		_, err := noRetry.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{"i-00000000000000000"}})
		if errorCode(err) == "RequestLimitExceeded" {
			throttled++
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
				t.Errorf("throttling answered %v, want HTTP 503", err)
			}
		}
	}
	if throttled == 0 {
		t.Error("12 quick StartInstances calls were never throttled")
	}
	for range 3 {
		if _, err := retrying.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(linuxAMI(t, retrying)), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
			t.Errorf("RunInstances with the standard retryer: %v", err)
		}
	}
	if st := cloud.Stats(); st.Throttled < throttled {
		t.Errorf("stats count %d throttled requests, want at least %d", st.Throttled, throttled)
	}
}

func TestHostileInternalErrors(t *testing.T) {
	t.Parallel()
	s := fast()
	s.FaultRate = 0.5
	cloud := testenv.LocalCloud(t, s)
	noRetry, retrying := client(cloud, "us-east-1", 1), client(cloud, "us-east-1", 25)
	ctx := context.Background()
	var faults int
	for range 20 {
		_, err := noRetry.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
		if errorCode(err) == "InternalError" {
			faults++
		}
	}
	if faults == 0 {
		t.Error("20 calls at fault rate 0.5 never failed with InternalError")
	}
	for range 5 {
		if _, err := retrying.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}); err != nil {
			t.Errorf("DescribeKeyPairs with the standard retryer: %v", err)
		}
	}
}

func TestEventualConsistency(t *testing.T) {
	t.Parallel()
	s := fast()
	s.Consistency = time.Second
	cloud := testenv.LocalCloud(t, s)
	c := client(cloud, "us-east-1", 1)
	id, _ := launch(t, c, "")
	_, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if errorCode(err) != "InvalidInstanceID.NotFound" {
		t.Errorf("describing a brand-new instance: %v, want InvalidInstanceID.NotFound", err)
	}
	eventually(t, "instance visible", func() bool {
		_, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		return err == nil
	})
}

func TestStatsAndReset(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	east, west := client(cloud, "us-east-1", 0), client(cloud, "eu-west-1", 0)
	ctx := context.Background()
	for _, c := range []*ec2.Client{east, east, west} {
		if _, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	st := getStats(t, cloud)
	if st.Actions["DescribeKeyPairs"] != 3 || st.Regions["us-east-1"].Actions["DescribeKeyPairs"] != 2 || st.Regions["eu-west-1"].Actions["DescribeKeyPairs"] != 1 {
		t.Errorf("stats %+v: want 3 DescribeKeyPairs, 2 in us-east-1 and 1 in eu-west-1", st)
	}
	resp, err := http.Post(cloud.URL()+"/_localcloud/reset-stats", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := getStats(t, cloud); len(st.Actions) != 0 || len(st.Regions) != 0 {
		t.Errorf("stats after reset: %+v", st)
	}
}

func getStats(t *testing.T, cloud *localcloud.Cloud) localcloud.Stats {
	t.Helper()
	resp, err := http.Get(cloud.URL() + "/_localcloud/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st localcloud.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode stats: %v", err)
	}
	return st
}

// TestDuplicateImageNames: EC2 refuses an image name the account already
// uses in the region (moto does not); a CopyImage repeated with its
// ClientToken still answers the first copy, and a name is free again once
// its image is deregistered.
func TestDuplicateImageNames(t *testing.T) {
	t.Parallel()
	s := fast()
	s.Boot, s.Image, s.Copy = 0, 0, 0
	cloud := testenv.LocalCloud(t, s)
	east, west := client(cloud, "us-east-1", 1), client(cloud, "eu-west-1", 1)
	ctx := context.Background()
	ami := createImage(t, east, "dup-1")
	inst, _ := launch(t, east, "")
	_, err := east.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("dup-1")})
	if errorCode(err) != "InvalidAMIName.Duplicate" {
		t.Errorf("CreateImage of a taken name: %v, want InvalidAMIName.Duplicate", err)
	}
	copyIn := &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(ami), Name: aws.String("dup-1"), ClientToken: aws.String("tok-1")}
	first, err := west.CopyImage(ctx, copyIn)
	if err != nil {
		t.Fatalf("copy to a region where the name is free: %v", err)
	}
	again, err := west.CopyImage(ctx, copyIn)
	if err != nil || aws.ToString(again.ImageId) != aws.ToString(first.ImageId) {
		t.Errorf("CopyImage repeated with its token: %v, %v; want %s", err, again, aws.ToString(first.ImageId))
	}
	copyIn.ClientToken = aws.String("tok-2")
	if _, err := west.CopyImage(ctx, copyIn); errorCode(err) != "InvalidAMIName.Duplicate" {
		t.Errorf("CopyImage of a taken name: %v, want InvalidAMIName.Duplicate", err)
	}
	if _, err := east.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami)}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("dup-1")}); err != nil {
		t.Errorf("CreateImage of a name freed by deregistration: %v", err)
	}
}

// TestRootVolumeDeletedOnTermination: an image's root device mapping says
// delete on termination, and an instance launched from it without
// mappings leaves no volume behind, as the describe promised.
func TestRootVolumeDeletedOnTermination(t *testing.T) {
	t.Parallel()
	s := fast()
	s.Boot, s.Terminate = 0, 0
	cloud := testenv.LocalCloud(t, s)
	c := client(cloud, "us-east-1", 0)
	ctx := context.Background()
	ami := linuxAMI(t, c)
	im := describeImage(t, c, ami)
	for _, m := range im.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == aws.ToString(im.RootDeviceName) && (m.Ebs == nil || !aws.ToBool(m.Ebs.DeleteOnTermination)) {
			t.Errorf("root mapping of %s: %+v, want delete on termination", ami, m.Ebs)
		}
	}
	id, _ := launch(t, c, "")
	byInstance := &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{id}}}}
	vols, err := c.DescribeVolumes(ctx, byInstance)
	if err != nil || len(vols.Volumes) == 0 {
		t.Fatalf("volumes of %s: %v, %d", id, err, len(vols.Volumes))
	}
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	for _, v := range vols.Volumes {
		_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{aws.ToString(v.VolumeId)}})
		if errorCode(err) != "InvalidVolume.NotFound" {
			t.Errorf("root volume %s after termination: %v, want InvalidVolume.NotFound", aws.ToString(v.VolumeId), err)
		}
	}
}

// TestRunInstancesClientToken: a RunInstances repeated with its
// ClientToken (an SDK retry after a lost answer) gets the first
// instances back instead of launching more, as on EC2.
func TestRunInstancesClientToken(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	c := client(cloud, "us-east-1", 0)
	ctx := context.Background()
	in := &ec2.RunInstancesInput{ImageId: aws.String(linuxAMI(t, c)), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, ClientToken: aws.String("retry-me")}
	first, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := aws.ToString(first.Instances[0].InstanceId), aws.ToString(again.Instances[0].InstanceId); a != b || aws.ToString(again.ReservationId) != aws.ToString(first.ReservationId) {
		t.Errorf("repeated token launched %s (reservation %s) after %s (%s)", b, aws.ToString(again.ReservationId), a, aws.ToString(first.ReservationId))
	}
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	if n != 1 {
		t.Errorf("%d instances in the cloud, want 1", n)
	}
}

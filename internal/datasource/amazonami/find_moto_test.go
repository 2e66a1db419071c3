package amazonami_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/datasource/amazonami"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestFindLocalCloud creates two images named base-al2023-* in the local
// cloud and finds them by name, as a template's data source would.
func TestFindLocalCloud(t *testing.T) {
	s, err := localcloud.ProfileSettings("instant")
	if err != nil {
		t.Fatal(err)
	}
	s.SSH = false
	cloud := testenv.LocalCloud(t, s)
	c := ec2.NewFromConfig(testenv.AWSConfig(cloud.URL(), localcloud.Region))
	ctx := context.Background()
	first := createImage(t, c, "base-al2023-2026.10.01")
	second := createImage(t, c, "base-al2023-2026.11.01")

	f := amazonami.Filter{Filters: map[string]string{"name": "base-al2023-2026.11.*"}, Owners: []string{"self"}}
	img, err := amazonami.Find(ctx, c, f)
	if err != nil || aws.ToString(img.ImageId) != second {
		t.Fatalf("Find = %s, %v; want %s", aws.ToString(img.ImageId), err, second)
	}
	if o := amazonami.FromImage(img); o.Name != "base-al2023-2026.11.01" || o.Owner == "" || o.CreationDate == "" {
		t.Errorf("output %+v", o)
	}

	f.Filters["name"] = "base-al2023-*"
	if _, err := amazonami.Find(ctx, c, f); err == nil || !strings.Contains(err.Error(), "2 AMIs match") ||
		!strings.Contains(err.Error(), first) || !strings.Contains(err.Error(), second) {
		t.Errorf("ambiguous Find: %v", err)
	}

	f.Filters["name"] = "nothing-*"
	if _, err := amazonami.Find(ctx, c, f); err == nil || !strings.Contains(err.Error(), `no AMI matches filters {name="nothing-*"}`) {
		t.Errorf("Find of nothing: %v", err)
	}

	if img, err := amazonami.Describe(ctx, c, first, localcloud.Region); err != nil || aws.ToString(img.Name) != "base-al2023-2026.10.01" {
		t.Errorf("Describe(%s) = %s, %v", first, aws.ToString(img.Name), err)
	}
	if _, err := amazonami.Describe(ctx, c, "ami-0123456789abcdef0", localcloud.Region); err == nil ||
		!strings.Contains(err.Error(), "source AMI ami-0123456789abcdef0 not found in us-east-1") {
		t.Errorf("Describe of a missing AMI: %v", err)
	}
}

// createImage runs an instance from a built-in AMI and images it as name.
func createImage(t *testing.T, c *ec2.Client, name string) string {
	t.Helper()
	ctx := context.Background()
	builtin, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"amzn*"}}},
	})
	if err != nil || len(builtin.Images) == 0 {
		t.Fatalf("find a built-in AMI: %v", err)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: builtin.Images[0].ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro,
	})
	if err != nil {
		t.Fatalf("run instance: %v", err)
	}
	img, err := c.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: run.Instances[0].InstanceId, Name: aws.String(name)})
	if err != nil {
		t.Fatalf("create image %s: %v", name, err)
	}
	return aws.ToString(img.ImageId)
}

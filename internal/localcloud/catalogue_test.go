package localcloud_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestUbuntuImagesInEveryRegion: the lookup templates make on AWS for
// Canonical's images (owner 099720109477, a name pattern, most_recent)
// finds jammy and noble in every region, with another ID in each, and an
// instance launches from one; moto's own per-region images are still
// there.
func TestUbuntuImagesInEveryRegion(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	releases := map[string]string{
		"ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*":     "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on ",
		"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*": "Canonical, Ubuntu, 24.04, amd64 noble image",
	}
	seen := map[string]string{} // image ID -> region and name
	// mx-central-1 is a region moto has no image file of its own for.
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2", "mx-central-1"} {
		c := client(cloud, region, 0)
		for pattern, description := range releases {
			images := lookup(t, c, []string{"099720109477"}, pattern)
			if len(images) < 2 {
				t.Errorf("%s: %d images named %s, want builds to choose the most recent from", region, len(images), pattern)
				continue
			}
			im := images[0]
			where := region + " " + aws.ToString(im.Name)
			if !strings.HasSuffix(aws.ToString(im.Name), "-20240701") {
				t.Errorf("%s: the most recent image is not the latest build", where)
			}
			if prev, ok := seen[aws.ToString(im.ImageId)]; ok {
				t.Errorf("%s: ID %s is also %s's", where, aws.ToString(im.ImageId), prev)
			}
			seen[aws.ToString(im.ImageId)] = where
			got := map[string]string{
				"OwnerId":            aws.ToString(im.OwnerId),
				"Architecture":       string(im.Architecture),
				"RootDeviceName":     aws.ToString(im.RootDeviceName),
				"RootDeviceType":     string(im.RootDeviceType),
				"VirtualizationType": string(im.VirtualizationType),
				"State":              string(im.State),
			}
			for field, want := range ubuntuFields {
				if got[field] != want {
					t.Errorf("%s: %s %q, want %q", where, field, got[field], want)
				}
			}
			if !aws.ToBool(im.Public) || !strings.HasPrefix(aws.ToString(im.Description), description) {
				t.Errorf("%s: public %v, description %q", where, aws.ToBool(im.Public), aws.ToString(im.Description))
			}
		}
	}
	east := lookup(t, client(cloud, "us-east-1", 0), []string{"amazon"}, "al2023-ami-2023.*-x86_64")
	west := lookup(t, client(cloud, "eu-west-1", 0), []string{"amazon"}, "al2023-ami-2023.*-x86_64")
	if len(east) == 0 || len(west) == 0 || aws.ToString(east[0].ImageId) == aws.ToString(west[0].ImageId) {
		t.Errorf("moto's own Amazon Linux 2023 images: %d in us-east-1, %d in eu-west-1, want some of each with IDs of their own", len(east), len(west))
	}

	c := client(cloud, "eu-west-1", 0)
	jammy := lookup(t, c, []string{"099720109477"}, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*")[0]
	out, err := c.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: jammy.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: types.InstanceTypeT3Micro})
	if err != nil {
		t.Fatalf("run an instance from %s: %v", aws.ToString(jammy.ImageId), err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	eventually(t, "instance running", func() bool { return instanceState(t, c, id) == types.InstanceStateNameRunning })
	if got := aws.ToString(describeInstance(t, c, id).ImageId); got != aws.ToString(jammy.ImageId) {
		t.Errorf("instance of image %s, want %s", got, aws.ToString(jammy.ImageId))
	}
}

// ubuntuFields are what EC2 says of Canonical's amd64 server images.
var ubuntuFields = map[string]string{
	"OwnerId":            "099720109477",
	"Architecture":       "x86_64",
	"RootDeviceName":     "/dev/sda1",
	"RootDeviceType":     "ebs",
	"VirtualizationType": "hvm",
	"State":              "available",
}

// lookup finds images as a template's source_ami_filter does: by owners
// and name, the most recent first.
func lookup(t *testing.T, c *ec2.Client, owners []string, name string) []types.Image {
	t.Helper()
	out, err := c.DescribeImages(context.Background(), &ec2.DescribeImagesInput{
		Owners:  owners,
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{name}}},
	})
	if err != nil {
		t.Fatalf("describe images %v %s: %v", owners, name, err)
	}
	images := out.Images
	sort.SliceStable(images, func(i, j int) bool {
		return aws.ToString(images[i].CreationDate) > aws.ToString(images[j].CreationDate)
	})
	return images
}

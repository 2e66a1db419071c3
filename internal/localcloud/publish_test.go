package localcloud_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/imgbuild/imgbuild/internal/datasource/amazonami"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestPublishImage is patch Tuesday: after publish-image, the lookup a
// template makes (amazon-ami, owners amazon, most_recent) finds the new
// Windows image in every region, shown as Amazon's public image with its
// platform; it is not among the account's own images or snapshots;
// publishing the same name again answers the same IDs.
func TestPublishImage(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	ctx := context.Background()
	req := localcloud.PublishRequest{Like: "Windows_Server-2022-English-Full-Base", Name: "Windows_Server-2022-English-Full-Base-2024.12.11", Created: "2024-12-11T22:15:00Z"}
	res, err := cloud.PublishImage(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2", "mx-central-1"} {
		c := client(cloud, region, 0)
		want := res.Images[region]
		if want == "" {
			t.Fatalf("no image published in %s: %v", region, res.Images)
		}
		im, err := amazonami.Find(ctx, c, amazonami.Filter{Owners: []string{"amazon"}, MostRecent: true,
			Filters: map[string]string{"name": "Windows_Server-2022-English-Full-Base-*", "platform": "windows"}})
		if err != nil {
			t.Fatalf("%s: %v", region, err)
		}
		got := map[string]string{"ImageId": aws.ToString(im.ImageId), "OwnerId": aws.ToString(im.OwnerId), "Platform": string(im.Platform),
			"CreationDate": aws.ToString(im.CreationDate), "Public": boolString(im.Public), "Name": aws.ToString(im.Name)}
		wantFields := map[string]string{"ImageId": want, "OwnerId": "801119661308", "Platform": "windows",
			"CreationDate": "2024-12-11T22:15:00.000Z", "Public": "true", "Name": req.Name}
		for k, v := range wantFields {
			if got[k] != v {
				t.Errorf("%s: most recent image's %s %q, want %q", region, k, got[k], v)
			}
		}
		self, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range self.Images {
			t.Errorf("%s: Owners=self lists %s (%s)", region, aws.ToString(im.ImageId), aws.ToString(im.Name))
		}
		var snap string
		for _, m := range im.BlockDeviceMappings {
			if m.Ebs != nil {
				snap = aws.ToString(m.Ebs.SnapshotId)
			}
		}
		if snap == "" {
			t.Errorf("%s: the published image has no snapshot", region)
		}
		snaps, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps.Snapshots {
			if aws.ToString(s.SnapshotId) == snap {
				t.Errorf("%s: OwnerIds=self lists the published image's snapshot %s", region, snap)
			}
		}
	}
	c := client(cloud, "us-east-1", 0)
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(res.Images["us-east-1"]), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: "t3.micro"})
	if err != nil {
		t.Fatalf("launch from the published image: %v", err)
	}
	if p := run.Instances[0].Platform; p != "windows" {
		t.Errorf("instance of the published Windows image has platform %q", p)
	}
	again, err := cloud.PublishImage(ctx, localcloud.PublishRequest{Like: req.Like, Name: req.Name, Regions: []string{"eu-west-1"}})
	if err != nil || again.Images["eu-west-1"] != res.Images["eu-west-1"] {
		t.Errorf("publishing again: %v, %v; want the same image %s", again.Images, err, res.Images["eu-west-1"])
	}
	if _, err := cloud.PublishImage(ctx, localcloud.PublishRequest{Like: "no-such-image", Name: "x", Regions: []string{"us-east-1"}}); err == nil || !strings.Contains(err.Error(), "no public image named no-such-image") {
		t.Errorf("publishing like an unknown image: %v", err)
	}
}

// TestPublishedImageBoots: an instance of an image published like a Linux
// image boots with the same content as one of the image it is like.
func TestPublishedImageBoots(t *testing.T) {
	t.Parallel()
	cloud, _ := guestCloud(t)
	ctx := context.Background()
	res, err := cloud.PublishImage(ctx, localcloud.PublishRequest{Like: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-",
		Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20241211", Regions: []string{"eu-west-1"}})
	if err != nil {
		t.Fatal(err)
	}
	c := client(cloud, "eu-west-1", 0)
	images := lookup(t, c, []string{"099720109477"}, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*")
	if len(images) != 3 || aws.ToString(images[0].ImageId) != res.Images["eu-west-1"] {
		t.Fatalf("jammy images newest first: %d, first %s; want 3, the published %s first", len(images), aws.ToString(images[0].ImageId), res.Images["eu-west-1"])
	}
	key := newSigner(t)
	importKey(t, c, "k", key)
	const look = "cat /etc/os-release; ls /usr/bin /etc | md5sum"
	var seen []string
	for _, im := range images[:2] {
		id := runFrom(t, c, aws.ToString(im.ImageId), "k", "")
		seen = append(seen, output(t, login(t, c, id, key), look))
	}
	if seen[0] != seen[1] || !strings.Contains(seen[0], "ID=") {
		t.Errorf("instance of the published image sees\n%s\nof the image it is like\n%s", seen[0], seen[1])
	}
}

func boolString(b *bool) string {
	if aws.ToBool(b) {
		return "true"
	}
	return "false"
}

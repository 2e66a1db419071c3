package localcloud_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestLaunchTemplateSourceVersion: a version created from a source
// version keeps the source's fields the request does not set, as on EC2.
func TestLaunchTemplateSourceVersion(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	c := client(cloud, "us-east-1", 1)
	ctx := context.Background()
	ami := linuxAMI(t, c)
	_, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("app"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro,
			UserData: aws.String("ZWNobyBvbGQ="), KeyName: aws.String("deploy"),
			BlockDeviceMappings: []types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvdf"),
				Ebs: &types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(20)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		source string
		want   types.InstanceType
	}{{"1", types.InstanceTypeT3Micro}, {"", ""}} {
		in := &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("app"),
			LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String("ami-0123456789abcdef0"), UserData: aws.String("ZWNobyBuZXc=")}}
		if tt.source != "" {
			in.SourceVersion = aws.String(tt.source)
		}
		out, err := c.CreateLaunchTemplateVersion(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		n := *out.LaunchTemplateVersion.VersionNumber
		v, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("app"),
			Versions: []string{strconv.FormatInt(n, 10)}})
		if err != nil || len(v.LaunchTemplateVersions) != 1 {
			t.Fatalf("describe version %d: %v", n, err)
		}
		d := v.LaunchTemplateVersions[0].LaunchTemplateData
		keeps := tt.source != ""
		if aws.ToString(d.ImageId) != "ami-0123456789abcdef0" || aws.ToString(d.UserData) != "ZWNobyBuZXc=" || d.InstanceType != tt.want ||
			(aws.ToString(d.KeyName) == "deploy") != keeps || (len(d.BlockDeviceMappings) == 1) != keeps {
			t.Errorf("source %q: version %d: image %s, user data %s, type %q, key %q, mappings %+v", tt.source, n,
				aws.ToString(d.ImageId), aws.ToString(d.UserData), d.InstanceType, aws.ToString(d.KeyName), d.BlockDeviceMappings)
		}
		if keeps && len(d.BlockDeviceMappings) == 1 && (d.BlockDeviceMappings[0].Ebs == nil || aws.ToInt32(d.BlockDeviceMappings[0].Ebs.VolumeSize) != 20) {
			t.Errorf("version %d: mapping %+v, want the source's 20 GiB volume", n, d.BlockDeviceMappings[0])
		}
	}
}

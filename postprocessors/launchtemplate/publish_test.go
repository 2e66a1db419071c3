package launchtemplate

import (
	"context"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
)

// fakeTemplate is one launch template's versions; it records writes.
type fakeTemplate struct {
	versions []types.ResponseLaunchTemplateData // version N is versions[N-1]
	def      int64
	missing  bool
	writes   []string
}

func (f *fakeTemplate) DescribeLaunchTemplateVersions(_ context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	if f.missing {
		return nil, &smithy.GenericAPIError{Code: "InvalidLaunchTemplateName.NotFoundException"}
	}
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	for _, n := range []int64{int64(len(f.versions)), f.def} {
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, types.LaunchTemplateVersion{
			VersionNumber: aws.Int64(n), DefaultVersion: aws.Bool(n == f.def), LaunchTemplateData: &f.versions[n-1]})
	}
	return out, nil
}

func (f *fakeTemplate) CreateLaunchTemplateVersion(_ context.Context, in *ec2.CreateLaunchTemplateVersionInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	f.writes = append(f.writes, "CreateLaunchTemplateVersion from "+*in.SourceVersion+" "+*in.LaunchTemplateData.ImageId)
	f.versions = append(f.versions, types.ResponseLaunchTemplateData{ImageId: in.LaunchTemplateData.ImageId, UserData: in.LaunchTemplateData.UserData})
	return &ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: &types.LaunchTemplateVersion{VersionNumber: aws.Int64(int64(len(f.versions)))}}, nil
}

func (f *fakeTemplate) ModifyLaunchTemplate(_ context.Context, in *ec2.ModifyLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	f.writes = append(f.writes, "ModifyLaunchTemplate default "+*in.DefaultVersion)
	return &ec2.ModifyLaunchTemplateOutput{}, nil
}

func TestPublish(t *testing.T) {
	const old, cur = "ami-0000000000000001", "ami-0000000000000002"
	payload := "#!/bin/sh\necho app\n"
	ud := &bootData{path: "app.user-data", b64: base64.StdEncoding.EncodeToString([]byte(payload)), size: len(payload)}
	im := artifact.Image{Region: "eu-west-1", ImageID: cur}
	v := func(ami, userData string) types.ResponseLaunchTemplateData {
		return types.ResponseLaunchTemplateData{ImageId: aws.String(ami), UserData: aws.String(userData)}
	}
	tests := []struct {
		name       string
		setDefault bool
		versions   []types.ResponseLaunchTemplateData
		def        int64
		im         artifact.Image
		ud         *bootData
		wantLines  []string
		wantWrites []string
	}{
		{"new image: new default version", true, []types.ResponseLaunchTemplateData{v(old, "")}, 1, im, ud,
			[]string{"created version 2 of launch template app in eu-west-1 from version 1: ami-0000000000000002 (now ami-0000000000000001), user data app.user-data (19 bytes), made the default"},
			[]string{"CreateLaunchTemplateVersion from 1 ami-0000000000000002", "ModifyLaunchTemplate default 2"}},
		{"latest launches it: nothing", true, []types.ResponseLaunchTemplateData{v(old, ""), v(cur, ud.b64)}, 2, im, ud, nil, nil},
		{"latest launches it, not default: set default", true, []types.ResponseLaunchTemplateData{v(old, ""), v(cur, ud.b64)}, 1, im, ud,
			[]string{"make version 2 of launch template app in eu-west-1 the default (now 1)"},
			[]string{"ModifyLaunchTemplate default 2"}},
		{"latest launches it, default not wanted", false, []types.ResponseLaunchTemplateData{v(old, ""), v(cur, ud.b64)}, 1, im, ud, nil, nil},
		{"other user data: new version", false, []types.ResponseLaunchTemplateData{v(cur, "b2xk")}, 1, im, ud,
			[]string{"created version 2 of launch template app in eu-west-1 from version 1: ami-0000000000000002 (now ami-0000000000000002), user data app.user-data (19 bytes)"},
			[]string{"CreateLaunchTemplateVersion from 1 ami-0000000000000002"}},
		{"no payload: user data left alone", false, []types.ResponseLaunchTemplateData{v(cur, "b2xk")}, 1, im, nil, nil, nil},
		{"planned image", false, []types.ResponseLaunchTemplateData{v(old, "")}, 1, artifact.Image{Region: "eu-west-1"}, nil,
			[]string{"create a version of launch template app in eu-west-1 from version 1: (new image) (now ami-0000000000000001)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{LaunchTemplateName: "app", SetDefault: tt.setDefault}
			plan := &fakeTemplate{versions: append([]types.ResponseLaunchTemplateData(nil), tt.versions...), def: tt.def}
			planned, err := c.publish(context.Background(), plan, tt.im, tt.ud, false)
			if err != nil || len(plan.writes) > 0 || len(planned) != len(tt.wantLines) {
				t.Errorf("plan: %q, %v, writes %q", planned, err, plan.writes)
			}
			if tt.im.ImageID == "" {
				if !reflect.DeepEqual(planned, tt.wantLines) {
					t.Errorf("plan lines %q, want %q", planned, tt.wantLines)
				}
				return
			}
			f := &fakeTemplate{versions: append([]types.ResponseLaunchTemplateData(nil), tt.versions...), def: tt.def}
			lines, err := c.publish(context.Background(), f, tt.im, tt.ud, true)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(lines, tt.wantLines) || !reflect.DeepEqual(f.writes, tt.wantWrites) {
				t.Errorf("lines %q\nwant  %q\nwrites %q, want %q", lines, tt.wantLines, f.writes, tt.wantWrites)
			}
		})
	}
}

func TestMissingTemplate(t *testing.T) {
	c := &Config{LaunchTemplateName: "app"}
	_, err := c.publish(context.Background(), &fakeTemplate{missing: true}, artifact.Image{Region: "eu-west-1", ImageID: "ami-0000000000000002"}, nil, true)
	if err == nil || !strings.Contains(err.Error(), "launch template app not found in eu-west-1") {
		t.Errorf("error %v", err)
	}
}

func TestPrepare(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Config
		ok   bool
	}{
		{"name", Config{LaunchTemplateName: "app"}, true},
		{"id", Config{LaunchTemplateID: "lt-0123456789abcdef0"}, true},
		{"neither", Config{}, false},
		{"both", Config{LaunchTemplateName: "app", LaunchTemplateID: "lt-0123456789abcdef0"}, false},
		{"bad id", Config{LaunchTemplateID: "app"}, false},
		{"bad name", Config{LaunchTemplateName: "a b"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := &check.Context{}
			tt.c.Prepare(ctx)
			if ctx.HasErrors() == tt.ok {
				t.Errorf("diagnostics %v, want ok=%v", ctx.Diags, tt.ok)
			}
		})
	}
}

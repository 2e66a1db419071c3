package retention

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
)

// fakeEC2 is one region's images, instances and launch template
// defaults; it records writes.
type fakeEC2 struct {
	images    []types.Image
	instances map[string]string // instance ID -> image ID
	ltDefault map[string]string // template name -> image ID of its default version
	reads     int
	writes    []string
}

func (f *fakeEC2) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	f.reads++
	return &ec2.DescribeImagesOutput{Images: f.images}, nil
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.reads++
	var r types.Reservation
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for k := range f.instances {
			if !yield(k) {
				return
			}
		}
	}) {
		if slices.Contains(in.Filters[0].Values, f.instances[id]) {
			r.Instances = append(r.Instances, types.Instance{InstanceId: aws.String(id), ImageId: aws.String(f.instances[id]),
				State: &types.InstanceState{Name: types.InstanceStateNameRunning}})
		}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{r}}, nil
}

func (f *fakeEC2) DescribeLaunchTemplateVersions(_ context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	f.reads++
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	for name, ami := range f.ltDefault {
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, types.LaunchTemplateVersion{
			LaunchTemplateName: aws.String(name), LaunchTemplateId: aws.String("lt-0123456789abcdef0"), VersionNumber: aws.Int64(3),
			LaunchTemplateData: &types.ResponseLaunchTemplateData{ImageId: aws.String(ami)}})
	}
	return out, nil
}

func (f *fakeEC2) EnableImageDeprecation(_ context.Context, in *ec2.EnableImageDeprecationInput, _ ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error) {
	f.writes = append(f.writes, "EnableImageDeprecation "+*in.ImageId+" "+in.DeprecateAt.Format(time.RFC3339))
	return &ec2.EnableImageDeprecationOutput{}, nil
}

func (f *fakeEC2) DeregisterImage(_ context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	f.writes = append(f.writes, "DeregisterImage "+*in.ImageId)
	return &ec2.DeregisterImageOutput{}, nil
}

func (f *fakeEC2) DeleteSnapshot(_ context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	f.writes = append(f.writes, "DeleteSnapshot "+*in.SnapshotId)
	return &ec2.DeleteSnapshotOutput{}, nil
}

// img is image n (ami-...n, snap-...n), made n days after 2026-11-01.
func img(n int, mods ...func(*types.Image)) types.Image {
	i := types.Image{
		ImageId:      aws.String(fmt.Sprintf("ami-%017d", n)),
		CreationDate: aws.String(time.Date(2026, 11, 1+n, 0, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sda1"),
			Ebs: &types.EbsBlockDevice{SnapshotId: aws.String(fmt.Sprintf("snap-%017d", n))}}},
	}
	for _, m := range mods {
		m(&i)
	}
	return i
}

func deprecatedAt(t time.Time) func(*types.Image) {
	return func(i *types.Image) { i.DeprecationTime = aws.String(t.UTC().Format(time.RFC3339)) }
}

func TestDecide(t *testing.T) {
	now := time.Now().UTC()
	in := func(d time.Duration) string { return deprecationTime(now, d).Format(time.RFC3339) }
	own := artifact.Image{Region: "eu-west-1", ImageID: "ami-00000000000000004"}
	tests := []struct {
		name       string
		c          Config
		images     []types.Image
		own        artifact.Image
		instances  map[string]string
		lt         map[string]string
		wantLines  []string
		wantNotes  []string
		wantWrites []string
	}{
		{"delete at once beyond keep", Config{Keep: 2, Delete: true}, []types.Image{img(1), img(2), img(3), img(4)}, own, nil, nil,
			[]string{"delete ami-00000000000000002 (2026-11-03) in eu-west-1 and its 1 snapshot", "delete ami-00000000000000001 (2026-11-02) in eu-west-1 and its 1 snapshot"}, nil,
			[]string{"DeregisterImage ami-00000000000000002", "DeleteSnapshot snap-00000000000000002", "DeregisterImage ami-00000000000000001", "DeleteSnapshot snap-00000000000000001"}},
		{"own image counts even when old", Config{Keep: 2, Delete: true}, []types.Image{img(1), img(2), img(3), img(4)}, artifact.Image{Region: "eu-west-1", ImageID: "ami-00000000000000001"}, nil, nil,
			[]string{"delete ami-00000000000000003 (2026-11-04) in eu-west-1 and its 1 snapshot", "delete ami-00000000000000002 (2026-11-03) in eu-west-1 and its 1 snapshot"}, nil,
			[]string{"DeregisterImage ami-00000000000000003", "DeleteSnapshot snap-00000000000000003", "DeregisterImage ami-00000000000000002", "DeleteSnapshot snap-00000000000000002"}},
		{"planned image counts", Config{Keep: 3}, []types.Image{img(1), img(2), img(3), img(4)}, artifact.Image{Region: "eu-west-1"}, nil, nil,
			[]string{"deprecate ami-00000000000000002 (2026-11-03) in eu-west-1 at " + in(0), "deprecate ami-00000000000000001 (2026-11-02) in eu-west-1 at " + in(0)}, nil,
			[]string{"EnableImageDeprecation ami-00000000000000002 " + in(0), "EnableImageDeprecation ami-00000000000000001 " + in(0)}},
		{"within keep: nothing, no usage reads", Config{Keep: 4, Delete: true}, []types.Image{img(1), img(2), img(3), img(4)}, own, nil, nil, nil, nil, nil},
		{"deprecate after, then delete when passed", Config{Keep: 1, Delete: true, DeprecateAfter: "168h"},
			[]types.Image{img(1, deprecatedAt(now.Add(-time.Hour))), img(2, deprecatedAt(now.Add(time.Hour))), img(3), img(4)}, own, nil, nil,
			[]string{"deprecate ami-00000000000000003 (2026-11-04) in eu-west-1 at " + in(168*time.Hour), "delete ami-00000000000000001 (2026-11-02) in eu-west-1 and its 1 snapshot"}, nil,
			[]string{"EnableImageDeprecation ami-00000000000000003 " + in(168*time.Hour), "DeregisterImage ami-00000000000000001", "DeleteSnapshot snap-00000000000000001"}},
		{"deprecated later than wanted: brought forward", Config{Keep: 2, DeprecateAfter: "1h"},
			[]types.Image{img(1, deprecatedAt(now.Add(48*time.Hour))), img(3), img(4)}, own, nil, nil,
			[]string{"deprecate ami-00000000000000001 (2026-11-02) in eu-west-1 at " + in(time.Hour)}, nil,
			[]string{"EnableImageDeprecation ami-00000000000000001 " + in(time.Hour)}},
		{"in use or protected: kept and reported", Config{Keep: 1, Delete: true},
			[]types.Image{img(1, func(i *types.Image) { i.DeregistrationProtection = aws.String("enabled-with-cooldown") }), img(2), img(3), img(4)}, own,
			map[string]string{"i-0123456789abcdef0": "ami-00000000000000003"}, map[string]string{"app": "ami-00000000000000002"},
			nil,
			[]string{"kept ami-00000000000000003 (2026-11-04) in eu-west-1: used by instance i-0123456789abcdef0",
				"kept ami-00000000000000002 (2026-11-03) in eu-west-1: used by default version 3 of launch template app (lt-0123456789abcdef0)",
				"kept ami-00000000000000001 (2026-11-02) in eu-west-1: deregistration protection is enabled"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEC2{images: tt.images, instances: tt.instances, ltDefault: tt.lt}
			acts, notes, err := tt.c.decide(context.Background(), f, "app.amazon-ebs.web", tt.own, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := lines(acts); !reflect.DeepEqual(got, tt.wantLines) || !reflect.DeepEqual(notes, tt.wantNotes) {
				t.Errorf("lines %q\nwant  %q\nnotes %q\nwant  %q", got, tt.wantLines, notes, tt.wantNotes)
			}
			if tt.wantLines == nil && tt.wantNotes == nil && f.reads != 1 {
				t.Errorf("%d reads; want only the image listing", f.reads)
			}
			for _, a := range acts {
				if err := a.do(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(f.writes, tt.wantWrites) {
				t.Errorf("writes %q\nwant   %q", f.writes, tt.wantWrites)
			}
		})
	}
}

func TestPrepare(t *testing.T) {
	for _, tt := range []struct {
		c  Config
		ok bool
	}{
		{Config{Keep: 3, DeprecateAfter: "168h", Delete: true}, true},
		{Config{Keep: 0}, false},
		{Config{Keep: 1, DeprecateAfter: "a week"}, false},
		{Config{Keep: 1, DeprecateAfter: "100000h"}, false},
	} {
		ctx := &check.Context{}
		tt.c.Prepare(ctx)
		if ctx.HasErrors() == tt.ok {
			t.Errorf("%+v: diagnostics %v, want ok=%v", tt.c, ctx.Diags, tt.ok)
		}
	}
}

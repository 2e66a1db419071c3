package audit

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fakeEC2 answers for one region: own images by recipe tag, any image by
// ID filter, and instances.
type fakeEC2 struct {
	recipes   map[string]string // own image ID -> recipe
	names     map[string]string // every existing image ID -> name
	instances []types.Instance
}

func (f *fakeEC2) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	out := &ec2.DescribeImagesOutput{}
	fl := in.Filters[0]
	for id, name := range f.names {
		switch aws.ToString(fl.Name) {
		case "tag:imgbuild:recipe":
			if r, ok := f.recipes[id]; ok && slices.Contains(in.Owners, "self") && slices.Contains(fl.Values, r) {
				out.Images = append(out.Images, types.Image{ImageId: aws.String(id), Name: aws.String(name)})
			}
		case "image-id":
			if slices.Contains(fl.Values, id) {
				out.Images = append(out.Images, types.Image{ImageId: aws.String(id), Name: aws.String(name)})
			}
		}
	}
	return out, nil
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	var kept []types.Instance
	for _, i := range f.instances {
		if slices.Contains(in.Filters[0].Values, string(i.State.Name)) {
			kept = append(kept, i)
		}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []types.Reservation{{Instances: kept}}}, nil
}

func inst(id, image, state string, launched int) types.Instance {
	return types.Instance{InstanceId: aws.String(id), ImageId: aws.String(image), State: &types.InstanceState{Name: types.InstanceStateName(state)},
		LaunchTime: aws.Time(time.Date(2026, 11, 10, 8, launched, 0, 0, time.UTC))}
}

func TestRun(t *testing.T) {
	regions := map[string]*fakeEC2{
		"us-east-1": {
			recipes: map[string]string{"ami-app": "app.amazon-ebs.web", "ami-other": "other.amazon-ebs.x"},
			names:   map[string]string{"ami-app": "app-1", "ami-other": "other-1", "ami-pub": "ubuntu"},
			instances: []types.Instance{
				inst("i-3", "ami-pub", "stopped", 30), inst("i-1", "ami-other", "running", 10),
				inst("i-ok", "ami-app", "running", 5), inst("i-dead", "ami-pub", "terminated", 1),
			},
		},
		"eu-west-1": {
			recipes:   map[string]string{"ami-app-w": "app.amazon-ebs.web"},
			names:     map[string]string{"ami-app-w": "app-1"},
			instances: []types.Instance{inst("i-w", "ami-gone", "pending", 20), inst("i-ok-w", "ami-app-w", "running", 2)},
		},
	}
	rep, err := Run(context.Background(), func(r string) EC2API { return regions[r] }, []string{"us-east-1", "eu-west-1"}, []string{"app.amazon-ebs.web"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Instances {
		got = append(got, strings.Join([]string{f.Region, f.InstanceID, f.ImageID, f.ImageName, f.State, f.Reason}, " "))
	}
	want := []string{
		"eu-west-1 i-w ami-gone  pending " + ReasonGone,
		"us-east-1 i-1 ami-other other-1 running " + ReasonOtherImage,
		"us-east-1 i-3 ami-pub ubuntu stopped " + ReasonOtherImage,
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(rep.Approved["us-east-1"], []string{"ami-app"}) || !slices.Equal(rep.Approved["eu-west-1"], []string{"ami-app-w"}) {
		t.Errorf("approved: %v", rep.Approved)
	}
	if s := rep.Summary(); s != "3 instances in 2 of 2 regions not launched from an approved image" {
		t.Errorf("summary %q", s)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "us-east-1  i-3       ami-pub    2026-11-10T08:30:00Z  stopped  not an image of these recipes (ubuntu)") {
		t.Errorf("text:\n%s", b.String())
	}
}

func TestRunNothingFound(t *testing.T) {
	f := &fakeEC2{recipes: map[string]string{"ami-app": "app.amazon-ebs.web"}, names: map[string]string{"ami-app": "app"},
		instances: []types.Instance{inst("i-ok", "ami-app", "running", 1)}}
	rep, err := Run(context.Background(), func(string) EC2API { return f }, []string{"us-east-1"}, []string{"app.amazon-ebs.web"})
	if err != nil || len(rep.Instances) != 0 {
		t.Fatalf("%v %v", rep, err)
	}
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil || !strings.Contains(b.String(), `"instances": []`) {
		t.Errorf("json:\n%s", b.String())
	}
	if _, err := Run(context.Background(), func(string) EC2API { return f }, []string{"us-east-1"}, nil); err == nil {
		t.Error("no recipes: no error")
	}
}

package ssmparameter

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
)

// fakeSSM is one region's parameters and tags; it records writes.
type fakeSSM struct {
	params map[string]types.Parameter
	tags   map[string]map[string]string
	writes []string
	puts   []*ssm.PutParameterInput
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	p, ok := f.params[*in.Name]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "ParameterNotFound"}
	}
	return &ssm.GetParameterOutput{Parameter: &p}, nil
}

func (f *fakeSSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	f.writes = append(f.writes, "PutParameter "+*in.Name)
	f.puts = append(f.puts, in)
	return &ssm.PutParameterOutput{}, nil
}

func (f *fakeSSM) ListTagsForResource(_ context.Context, in *ssm.ListTagsForResourceInput, _ ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error) {
	out := &ssm.ListTagsForResourceOutput{}
	for k, v := range f.tags[*in.ResourceId] {
		out.TagList = append(out.TagList, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeSSM) AddTagsToResource(_ context.Context, in *ssm.AddTagsToResourceInput, _ ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error) {
	var kv []string
	for _, t := range in.Tags {
		kv = append(kv, *t.Key+"="+*t.Value)
	}
	f.writes = append(f.writes, "AddTagsToResource "+*in.ResourceId+" "+strings.Join(kv, ","))
	return &ssm.AddTagsToResourceOutput{}, nil
}

func param(value, dataType string) types.Parameter {
	return types.Parameter{Value: aws.String(value), DataType: aws.String(dataType), Type: types.ParameterTypeString}
}

func TestPublish(t *testing.T) {
	const name = "/images/app/latest"
	im := artifact.Image{Region: "eu-west-1", ImageID: "ami-0000000000000002"}
	tests := []struct {
		name       string
		params     map[string]types.Parameter
		tags       map[string]string
		im         artifact.Image
		wantLines  []string
		wantWrites []string
	}{
		{"absent: created with its tags", nil, nil, im,
			[]string{"put parameter /images/app/latest in eu-west-1: ami-0000000000000002 (new parameter)"},
			[]string{"PutParameter /images/app/latest"}},
		{"same value and tags: nothing", map[string]types.Parameter{name: param(im.ImageID, "aws:ec2:image")},
			map[string]string{"team": "images"}, im, nil, nil},
		{"older image: overwritten", map[string]types.Parameter{name: param("ami-0000000000000001", "aws:ec2:image")},
			map[string]string{"team": "images"}, im,
			[]string{"put parameter /images/app/latest in eu-west-1: ami-0000000000000002 (now ami-0000000000000001)"},
			[]string{"PutParameter /images/app/latest"}},
		{"text data type: overwritten", map[string]types.Parameter{name: param(im.ImageID, "text")},
			map[string]string{"team": "images"}, im,
			[]string{"put parameter /images/app/latest in eu-west-1: ami-0000000000000002 (now ami-0000000000000002, data type text)"},
			[]string{"PutParameter /images/app/latest"}},
		{"tag differs: tagged", map[string]types.Parameter{name: param(im.ImageID, "aws:ec2:image")},
			map[string]string{"team": "other"}, im,
			[]string{"tag parameter /images/app/latest in eu-west-1: team=images"},
			[]string{"AddTagsToResource /images/app/latest team=images"}},
		{"planned image", map[string]types.Parameter{name: param("ami-0000000000000001", "aws:ec2:image")},
			map[string]string{"team": "images"}, artifact.Image{Region: "eu-west-1"},
			[]string{"put parameter /images/app/latest in eu-west-1: (new image) (now ami-0000000000000001)"},
			[]string{"PutParameter /images/app/latest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Name: name, Tags: map[string]string{"team": "images"}}
			for _, apply := range []bool{false, true} {
				f := &fakeSSM{params: tt.params, tags: map[string]map[string]string{name: tt.tags}}
				lines, err := c.publish(context.Background(), f, tt.im, nil, apply)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(lines, tt.wantLines) {
					t.Errorf("apply=%v: lines\n%q\nwant\n%q", apply, lines, tt.wantLines)
				}
				want := tt.wantWrites
				if !apply {
					want = nil
				}
				if !reflect.DeepEqual(f.writes, want) {
					t.Errorf("apply=%v: writes %q, want %q", apply, f.writes, want)
				}
			}
		})
	}
}

func TestPublishBootPayload(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	small := write("small.user-data", []byte("#!/bin/sh\necho hi\n"))
	big := write("big.user-data", []byte("#!/bin/sh\n"+strings.Repeat("# padding\n", 500)))
	huge := write("huge.user-data", []byte(strings.Repeat("x", 8193)))
	gz := write("gz.user-data", []byte{0x1f, 0x8b, 0x08, 0xff})
	env := &artifact.Env{BaseDir: dir}
	c := &Config{Name: "/images/app/latest", BootPayloadName: "/images/app/boot-payload"}
	im := artifact.Image{Region: "us-east-1", ImageID: "ami-0000000000000002"}

	for _, tt := range []struct {
		file string
		tier types.ParameterTier
	}{{small, types.ParameterTierIntelligentTiering}, {big, types.ParameterTierAdvanced}} {
		p, err := c.payload(env, &artifact.Artifact{BootPayload: tt.file})
		if err != nil {
			t.Fatal(err)
		}
		f := &fakeSSM{}
		if _, err := c.publish(context.Background(), f, im, p, true); err != nil {
			t.Fatal(err)
		}
		if len(f.puts) != 2 || *f.puts[1].Name != c.BootPayloadName || *f.puts[1].DataType != "text" || f.puts[1].Tier != tt.tier {
			t.Errorf("%s: puts %+v, want the payload second, data type text, tier %q", tt.file, f.puts, tt.tier)
		}
	}
	for file, want := range map[string]string{huge: "8193 bytes; an SSM parameter holds at most 8192", gz: "not UTF-8 text"} {
		if _, err := c.payload(env, &artifact.Artifact{BootPayload: file}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", file, err, want)
		}
	}
	// No boot_payload_name: the payload is not read.
	if p, err := (&Config{Name: "/x"}).payload(env, &artifact.Artifact{BootPayload: huge}); p != nil || err != nil {
		t.Errorf("without boot_payload_name: %v, %v", p, err)
	}
}

func TestParameterName(t *testing.T) {
	for name, ok := range map[string]bool{
		"/images/app/latest": true, "latest": true, "app.latest_1-x": true,
		"images/app": false, "/images//app": false, "/images/app/": false, "/": false,
		"/aws/app": false, "ssm-app": false, "/images/app latest": false,
		"/" + strings.Repeat("a/", 15) + "b": false, strings.Repeat("a", 1012): false,
	} {
		if err := ParameterName(name); (err == nil) != ok {
			t.Errorf("ParameterName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	c := &Config{Name: "/images/app", BootPayloadName: "/images/app"}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if !ctx.HasErrors() || c.MaxRetries != 10 {
		t.Errorf("same name for both parameters: diagnostics %v; max_retries %d", ctx.Diags, c.MaxRetries)
	}
}

package amazonami

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// fakeImages serves DescribeImages from pages, recording every request.
type fakeImages struct {
	pages [][]types.Image
	err   error
	calls []*ec2.DescribeImagesInput
}

func (f *fakeImages) DescribeImages(_ context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	if len(f.pages) == 0 {
		return &ec2.DescribeImagesOutput{}, nil
	}
	page := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &page)
	}
	out := &ec2.DescribeImagesOutput{Images: f.pages[page]}
	if page+1 < len(f.pages) {
		out.NextToken = aws.String(fmt.Sprint(page + 1))
	}
	return out, nil
}

func image(id, name, created string) types.Image {
	return types.Image{ImageId: aws.String(id), Name: aws.String(name), CreationDate: aws.String(created)}
}

var (
	old    = image("ami-0000000000000001", "base-1", "2026-01-01T00:00:00.000Z")
	mid    = image("ami-0000000000000002", "base-2", "2026-02-01T00:00:00.000Z")
	newer  = image("ami-0000000000000003", "base-3", "2026-03-01T00:00:00.000Z")
	twinA  = image("ami-00000000000000aa", "twin-a", "2026-03-01T00:00:00.000Z")
	broken = image("ami-00000000000000ff", "broken", "not a date")
)

func TestFind(t *testing.T) {
	base := Filter{Filters: map[string]string{"name": "base-*", "architecture": "x86_64"}, Owners: []string{"self"}}
	recent := base
	recent.MostRecent = true
	many := make([]types.Image, 12)
	for i := range many {
		many[i] = image(fmt.Sprintf("ami-%017d", i), fmt.Sprintf("n-%d", i), "2026-01-01T00:00:00Z")
	}
	tests := []struct {
		name    string
		f       Filter
		pages   [][]types.Image
		want    string // image ID
		wantErr []string
	}{
		{"zero", base, nil, "", []string{"no AMI matches", `name="base-*"`, "owners [self]", "check the region"}},
		{"one", base, [][]types.Image{{mid}}, "ami-0000000000000002", nil},
		{"many", base, [][]types.Image{{old, newer, mid}}, "", []string{"3 AMIs match", "most_recent", "ami-0000000000000003  base-3  created 2026-03-01"}},
		{"many listed at most ten", base, [][]types.Image{many}, "", []string{"12 AMIs match", "... and 2 more"}},
		{"most recent", recent, [][]types.Image{{old, newer, mid}}, "ami-0000000000000003", nil},
		{"most recent tie broken by ID", recent, [][]types.Image{{twinA, newer}}, "ami-00000000000000aa", nil},
		{"unparsable date loses", recent, [][]types.Image{{broken, old}}, "ami-0000000000000001", nil},
		{"paginated", recent, [][]types.Image{{old}, {newer}, {mid}}, "ami-0000000000000003", nil},
		{"paginated ambiguous", base, [][]types.Image{{old}, {mid}}, "", []string{"2 AMIs match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeImages{pages: tt.pages}
			img, err := Find(context.Background(), fake, tt.f)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Find = %s, want error", aws.ToString(img.ImageId))
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil || aws.ToString(img.ImageId) != tt.want {
				t.Errorf("Find = %s, %v; want %s", aws.ToString(img.ImageId), err, tt.want)
			}
			if len(fake.calls) != max(1, len(tt.pages)) {
				t.Errorf("%d DescribeImages calls for %d pages", len(fake.calls), len(tt.pages))
			}
		})
	}
}

func TestFindRequest(t *testing.T) {
	for _, deprecated := range []bool{false, true} {
		t.Run(fmt.Sprint("deprecated=", deprecated), func(t *testing.T) {
			fake := &fakeImages{pages: [][]types.Image{{old}}}
			f := Filter{
				Filters:           map[string]string{"name": "base-*", "architecture": "x86_64", "virtualization-type": "hvm"},
				Owners:            []string{"self", "amazon"},
				ImageIDs:          []string{"ami-0000000000000001"},
				IncludeDeprecated: deprecated,
			}
			if _, err := Find(context.Background(), fake, f); err != nil {
				t.Fatal(err)
			}
			in := fake.calls[0]
			var names []string
			for _, fl := range in.Filters {
				names = append(names, *fl.Name+"="+strings.Join(fl.Values, ","))
			}
			want := []string{"architecture=x86_64", "name=base-*", "virtualization-type=hvm"}
			if !reflect.DeepEqual(names, want) {
				t.Errorf("filters %v, want %v (sorted)", names, want)
			}
			if aws.ToBool(in.IncludeDeprecated) != deprecated || !reflect.DeepEqual(in.Owners, f.Owners) || !reflect.DeepEqual(in.ImageIds, f.ImageIDs) {
				t.Errorf("request IncludeDeprecated=%v Owners=%v ImageIds=%v", aws.ToBool(in.IncludeDeprecated), in.Owners, in.ImageIds)
			}
		})
	}
}

func TestFindAPIError(t *testing.T) {
	fake := &fakeImages{err: &smithy.GenericAPIError{Code: "AuthFailure", Message: "denied"}}
	_, err := Find(context.Background(), fake, Filter{Filters: map[string]string{"name": "x"}})
	if err == nil || !strings.Contains(err.Error(), `describe images matching filters {name="x"}`) || !strings.Contains(err.Error(), "AuthFailure") {
		t.Errorf("error %v", err)
	}
}

func TestDescribe(t *testing.T) {
	notFound := &smithy.GenericAPIError{Code: "InvalidAMIID.NotFound", Message: "no such image"}
	tests := []struct {
		name    string
		fake    *fakeImages
		want    string
		wantErr string
	}{
		{"found", &fakeImages{pages: [][]types.Image{{mid}}}, "ami-0000000000000002", ""},
		{"empty answer", &fakeImages{}, "", "source AMI ami-0000000000000002 not found in eu-west-1"},
		{"not found code", &fakeImages{err: notFound}, "", "source AMI ami-0000000000000002 not found in eu-west-1"},
		{"other error", &fakeImages{err: &smithy.GenericAPIError{Code: "AuthFailure"}}, "", "describe source AMI ami-0000000000000002 in eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Describe(context.Background(), tt.fake, "ami-0000000000000002", "eu-west-1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || aws.ToString(img.ImageId) != tt.want {
				t.Errorf("Describe = %s, %v", aws.ToString(img.ImageId), err)
			}
			if !aws.ToBool(tt.fake.calls[0].IncludeDeprecated) {
				t.Error("Describe must find a deprecated source AMI by ID")
			}
		})
	}
}

func TestFromImage(t *testing.T) {
	img := image("ami-0000000000000002", "base-2", "2026-02-01T00:00:00.000Z")
	img.OwnerId, img.ImageOwnerAlias = aws.String("123456789012"), aws.String("amazon")
	img.Tags = []types.Tag{{Key: aws.String("os"), Value: aws.String("al2023")}}
	want := Output{ID: "ami-0000000000000002", Name: "base-2", CreationDate: "2026-02-01T00:00:00.000Z",
		Owner: "123456789012", OwnerName: "amazon", Tags: map[string]string{"os": "al2023"}}
	if got := FromImage(img); !reflect.DeepEqual(got, want) {
		t.Errorf("FromImage = %+v, want %+v", got, want)
	}
	if v := FromImage(img).CtyValue(); !v.Type().Equals(OutputType) {
		t.Errorf("type %#v", v.Type())
	}
}

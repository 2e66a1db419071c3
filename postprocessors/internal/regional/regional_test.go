package regional

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/check"
)

func TestEach(t *testing.T) {
	a := &artifact.Artifact{Images: []artifact.Image{{Region: "us-east-1", ImageID: "ami-2"}, {Region: "eu-west-1"}, {Region: "ap-south-1", ImageID: "ami-3"}}}
	got, err := Each(context.Background(), a, func(_ context.Context, im artifact.Image) ([]string, error) {
		if im.Region == "us-east-1" {
			return []string{"partial"}, errors.New("failed in us-east-1")
		}
		if im.Region == "ap-south-1" {
			return nil, errors.New("failed in ap-south-1")
		}
		return []string{fmt.Sprintf("%s: %s", im.Region, ImageLabel(im))}, nil
	})
	// Every region runs; the results and errors come in region order.
	if want := [][]string{nil, {"eu-west-1: (new image)"}, {"partial"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	if err == nil || err.Error() != "failed in ap-south-1\nfailed in us-east-1" {
		t.Errorf("error %v", err)
	}
	if l := Lines(got); !reflect.DeepEqual(l, []string{"eu-west-1: (new image)", "partial"}) {
		t.Errorf("lines %q", l)
	}
}

func TestAccessPrepare(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    Access
		ok   bool
	}{
		{"no region", Access{}, true},
		{"region", Access{Region: "eu-west-1"}, true},
		{"bad region", Access{Region: "europe"}, false},
		{"half a key pair", Access{AccessKey: "AKIA"}, false},
		{"negative retries", Access{MaxRetries: -1}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := &check.Context{}
			tt.c.Prepare(ctx)
			if ctx.HasErrors() == tt.ok || (tt.ok && tt.c.MaxRetries != 10) {
				t.Errorf("diagnostics %v, max_retries %d; want ok=%v", ctx.Diags, tt.c.MaxRetries, tt.ok)
			}
			for _, d := range ctx.Diags {
				if strings.Contains(d.Detail, "secret") && strings.Contains(d.Detail, "AKIA") {
					t.Errorf("diagnostic shows a key: %s", d.Detail)
				}
			}
		})
	}
}

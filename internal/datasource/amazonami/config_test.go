package amazonami

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/check"
)

func TestConfig(t *testing.T) {
	access := amazon.AccessConfig{Region: "us-east-1"}
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"valid", Config{AccessConfig: access, Filters: map[string]string{"name": "x"}, Owners: []string{"self"}}, ""},
		{"owner in filters", Config{AccessConfig: access, Filters: map[string]string{"owner-alias": "amazon"}}, ""},
		{"no filters", Config{AccessConfig: access, Owners: []string{"self"}}, "Missing filters"},
		{"no owners", Config{AccessConfig: access, Filters: map[string]string{"name": "x"}}, "Missing owners"},
		{"bad region", Config{AccessConfig: amazon.AccessConfig{Region: "x"}, Filters: map[string]string{"image-id": "ami-1"}}, "Invalid region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.c
			ctx := &check.Context{}
			c.Prepare(ctx)
			if tt.want == "" {
				if ctx.HasErrors() {
					t.Fatalf("unexpected diagnostics: %v", ctx.Diags)
				}
				return
			}
			if len(ctx.Diags) != 1 || !strings.Contains(ctx.Diags[0].Summary, tt.want) {
				t.Errorf("diagnostics = %v, want one containing %q", ctx.Diags, tt.want)
			}
		})
	}
}

func TestOutput(t *testing.T) {
	tests := []Output{
		{ID: "ami-12345678", Name: "n", Tags: map[string]string{"a": "b"}},
		{ID: "ami-12345678"},
	}
	for _, o := range tests {
		t.Run(o.ID+strings.Repeat("+tags", len(o.Tags)), func(t *testing.T) {
			v := o.CtyValue()
			if !v.Type().Equals(OutputType) {
				t.Fatalf("type %#v, want %#v", v.Type(), OutputType)
			}
			if v.GetAttr("id") != cty.StringVal(o.ID) || v.GetAttr("tags").LengthInt() != len(o.Tags) {
				t.Errorf("value %#v", v)
			}
		})
	}
}

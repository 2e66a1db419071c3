package amazon

import (
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/check"
)

// TestSpotRules checks Packer's rules for the spot settings: exactly one
// of instance_type and spot_instance_types (spot_instance_types alone does
// not need instance_type), the spot settings only with spot_price, its
// values, and what a spot instance cannot do.
func TestSpotRules(t *testing.T) {
	tests := []struct {
		name string
		edit func(*SourceConfig)
		want string // "" for valid, else a fragment of an error summary
	}{
		{"spot_price auto with instance_type", func(c *SourceConfig) { c.SpotPrice = "auto" }, ""},
		{"spot_price number", func(c *SourceConfig) { c.SpotPrice = "0.05" }, ""},
		{"spot_price 0 is on-demand", func(c *SourceConfig) { c.SpotPrice = "0" }, ""},
		{"spot_instance_types without instance_type", func(c *SourceConfig) {
			c.InstanceType, c.SpotPrice, c.SpotInstanceTypes = "", "auto", []string{"t3.micro", "t3a.micro"}
		}, ""},
		{"every spot setting", func(c *SourceConfig) {
			c.InstanceType, c.SpotPrice, c.SpotInstanceTypes = "", "0.1", []string{"m5.large"}
			c.SpotTags, c.FleetTags = map[string]string{"a": "b"}, map[string]string{"c": "d"}
			c.SpotAllocationStrategy = "price-capacity-optimized"
		}, ""},
		{"instance_type and spot_instance_types", func(c *SourceConfig) {
			c.SpotPrice, c.SpotInstanceTypes = "auto", []string{"t3.micro"}
		}, "Conflicting instance types"},
		{"neither instance_type nor spot_instance_types", func(c *SourceConfig) { c.InstanceType = "" }, "Missing required argument"},
		{"spot_instance_types without spot_price", func(c *SourceConfig) {
			c.InstanceType, c.SpotInstanceTypes = "", []string{"t3.micro"}
		}, "Spot setting without spot_price"},
		{"spot_tags without spot_price", func(c *SourceConfig) { c.SpotTags = map[string]string{"a": "b"} }, "Spot setting without spot_price"},
		{"spot_tag block without spot_price", func(c *SourceConfig) { c.SpotTag = []KeyValue{{Key: "a", Value: "b"}} }, "Spot setting without spot_price"},
		{"fleet_tags with spot_price 0", func(c *SourceConfig) {
			c.SpotPrice, c.FleetTags = "0", map[string]string{"a": "b"}
		}, "Spot setting without spot_price"},
		{"allocation strategy without spot_price", func(c *SourceConfig) { c.SpotAllocationStrategy = "lowest-price" }, "Spot setting without spot_price"},
		{"unknown allocation strategy", func(c *SourceConfig) {
			c.SpotPrice, c.SpotAllocationStrategy = "auto", "cheapest"
		}, "Invalid value"},
		{"bad spot_price", func(c *SourceConfig) { c.SpotPrice = "$0.05" }, "Invalid spot_price"},
		{"nitro enclave on spot", func(c *SourceConfig) {
			c.InstanceType, c.SpotPrice, c.EnableNitroEnclave = "m5.xlarge", "auto", true
		}, "Nitro Enclaves cannot go with a spot instance"},
		{"capacity reservation on spot", func(c *SourceConfig) {
			c.SpotPrice, c.CapacityReservationID = "auto", "cr-0123"
		}, "Capacity reservations do not apply to spot instances"},
		{"unlimited credits on a t2 spot", func(c *SourceConfig) {
			c.InstanceType, c.SpotPrice, c.EnableUnlimitedCredits = "t2.micro", "auto", true
		}, "Unlimited credits cannot go with a T2 spot instance"},
		{"unlimited credits with a non-burstable spot type", func(c *SourceConfig) {
			c.InstanceType, c.SpotPrice, c.SpotInstanceTypes, c.EnableUnlimitedCredits = "", "auto", []string{"t3.micro", "m5.large"}, true
		}, "Unlimited credits need a burstable instance type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(&c)
			ctx := &check.Context{}
			c.Prepare(ctx)
			var got []string
			for _, d := range ctx.Diags {
				got = append(got, d.Summary+": "+d.Detail)
			}
			all := strings.Join(got, "\n")
			switch {
			case tt.want == "" && ctx.HasErrors():
				t.Errorf("unexpected errors:\n%s", all)
			case tt.want != "" && !strings.Contains(all, tt.want):
				t.Errorf("errors:\n%s\nwant one containing %q", all, tt.want)
			}
		})
	}
}

// TestSpotTagBlocks: spot_tag and fleet_tag blocks add to the maps.
func TestSpotTagBlocks(t *testing.T) {
	c := valid()
	c.SpotPrice = "auto"
	c.SpotTags = map[string]string{"a": "1"}
	c.SpotTag = []KeyValue{{Key: "b", Value: "2"}}
	c.FleetTag = []KeyValue{{Key: "c", Value: "3"}}
	ctx := &check.Context{}
	c.Prepare(ctx)
	if ctx.HasErrors() {
		t.Fatal(ctx.Diags)
	}
	if c.SpotTags["a"] != "1" || c.SpotTags["b"] != "2" || c.FleetTags["c"] != "3" {
		t.Errorf("spot tags %v, fleet tags %v", c.SpotTags, c.FleetTags)
	}
	if !c.IsSpotInstance() {
		t.Error("spot_price auto is not a spot instance")
	}
}

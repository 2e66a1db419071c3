// Package amazonami is the amazon-ami data source: it finds one AMI by
// filters, for use as a source_ami.
package amazonami

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/check"
)

// Config is the configuration of a data "amazon-ami" block.
type Config struct {
	amazon.AccessConfig

	// Filters are DescribeImages filters, e.g. { name = "ubuntu/*",
	// "virtualization-type" = "hvm" }. Required (non-empty).
	Filters map[string]string `hcl:"filters"`
	// Owners are account IDs or aliases ("self", "amazon") that may own
	// the AMI. Required unless filters name an owner-id, owner-alias or
	// image-id, so a stranger's AMI is never picked.
	Owners []string `hcl:"owners"`
	// MostRecent picks the newest of several matches; without it several
	// matches are an error. Default: false.
	MostRecent bool `hcl:"most_recent"`
	// IncludeDeprecated also considers deprecated AMIs. Default: false.
	IncludeDeprecated bool `hcl:"include_deprecated"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.AccessConfig.PrepareQuery(ctx)
	c.AccessConfig.PrepareRegion(ctx)
	if !ctx.Set(len(c.Filters) > 0, "filters") {
		ctx.Errorf(check.Path("filters"), "Missing filters", "Set filters to select the AMI, for example { name = \"ubuntu/images/*\" }.")
	}
	if !ctx.Set(len(c.Owners) > 0, "owners") && c.Filters["owner-id"] == "" && c.Filters["owner-alias"] == "" && c.Filters["image-id"] == "" {
		ctx.Errorf(check.Path("owners"), "Missing owners",
			"Set owners (for example [\"self\"] or [\"099720109477\"]) so an AMI published by anyone else can never be picked.")
	}
}

// Output is what the data source yields, as data.amazon-ami.<name>.<attr>.
type Output struct {
	ID           string            `cty:"id"`            // the AMI ID
	Name         string            `cty:"name"`          // its name
	CreationDate string            `cty:"creation_date"` // RFC 3339
	Owner        string            `cty:"owner"`         // account ID
	OwnerName    string            `cty:"owner_name"`    // alias such as "amazon"
	Tags         map[string]string `cty:"tags"`
}

// OutputType is the cty type of Output's value.
var OutputType = cty.Object(map[string]cty.Type{
	"id":            cty.String,
	"name":          cty.String,
	"creation_date": cty.String,
	"owner":         cty.String,
	"owner_name":    cty.String,
	"tags":          cty.Map(cty.String),
})

// CtyValue returns o as a value of OutputType (no tags: an empty map).
func (o Output) CtyValue() cty.Value {
	if o.Tags == nil {
		o.Tags = map[string]string{}
	}
	v, err := gocty.ToCtyValue(o, OutputType)
	if err != nil {
		panic(fmt.Sprintf("amazon-ami output does not match its type: %v", err)) // a programming error
	}
	return v
}

// Package parameterstore is the amazon-parameterstore data source: it
// reads one SSM parameter.
package parameterstore

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/hcl2spec"
	"github.com/imgbuild/imgbuild/internal/check"
)

// Config is the configuration of a data "amazon-parameterstore" block.
type Config struct {
	amazon.AccessConfig

	// Name is the name of the parameter, e.g.
	// "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64".
	// Required.
	Name string `hcl:"name" required:"true"`
	// WithDecryption decrypts SecureString parameters. Default: false.
	WithDecryption bool `hcl:"with_decryption"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.AccessConfig.PrepareQuery(ctx)
	c.AccessConfig.PrepareRegion(ctx)
	ctx.RefuseSet(check.Path("custom_endpoint_ec2"), c.CustomEndpointEC2 != "",
		"amazon-parameterstore calls SSM, not EC2: set AWS_ENDPOINT_URL_SSM instead.")
}

// Output is what the data source yields, as
// data.amazon-parameterstore.<name>.<attr>.
type Output struct {
	Value   string // value: the parameter's value
	Version string // version: the parameter's version, as a string (Packer's type)
	ARN     string // arn: the parameter's ARN
	// Secure is set for a SecureString parameter: its value is marked
	// hcl2spec.SensitiveMark, so it is masked in all output.
	Secure bool
}

// OutputType is the cty type of Output's value.
var OutputType = cty.Object(map[string]cty.Type{
	"value":   cty.String,
	"version": cty.String,
	"arn":     cty.String,
})

// CtyValue returns o as a value of OutputType, with the value of a
// SecureString marked hcl2spec.SensitiveMark.
func (o Output) CtyValue() cty.Value {
	value := cty.StringVal(o.Value)
	if o.Secure {
		value = value.Mark(hcl2spec.SensitiveMark)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"value":   value,
		"version": cty.StringVal(o.Version),
		"arn":     cty.StringVal(o.ARN),
	})
}

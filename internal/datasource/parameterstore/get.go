package parameterstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// GetParameterAPI is the part of the SSM client Get uses.
type GetParameterAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Get reads the parameter name, decrypting a SecureString when decrypt is
// set. Public parameters such as /aws/service/ami-amazon-linux-latest/...
// are read the same way. region only names the region in errors; a missing
// parameter is an error naming the parameter and the region.
func Get(ctx context.Context, client GetParameterAPI, name string, decrypt bool, region string) (Output, error) {
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{
		Name: aws.String(name), WithDecryption: aws.Bool(decrypt),
	})
	switch {
	case awsapi.IsNotFound(err):
		return Output{}, fmt.Errorf("parameter %s not found in %s; check the name and the region", name, region)
	case err != nil:
		return Output{}, fmt.Errorf("get parameter %s in %s: %w", name, region, err)
	case out.Parameter == nil:
		return Output{}, fmt.Errorf("get parameter %s in %s: empty answer", name, region)
	}
	p := out.Parameter
	return Output{
		Value:   aws.ToString(p.Value),
		Version: strconv.FormatInt(p.Version, 10),
		ARN:     aws.ToString(p.ARN),
		Secure:  p.Type == types.ParameterTypeSecureString,
	}, nil
}

// Evaluate resolves the data source: it reads cfg's parameter in cfg's
// region (the session's default region when cfg has none) and returns its
// Output as a value of OutputType.
func Evaluate(ctx context.Context, sess *awsapi.Session, cfg *Config) (cty.Value, error) {
	region := cfg.Region
	if region == "" {
		region = sess.Region()
	}
	o, err := Get(ctx, sess.SSM(region), cfg.Name, cfg.WithDecryption, region)
	if err != nil {
		return cty.NilVal, err
	}
	return o.CtyValue(), nil
}

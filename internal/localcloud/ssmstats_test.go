package localcloud_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/imgbuild/imgbuild/internal/testenv"
)

// TestStatsCountSSM: SSM calls are counted in Stats with the EC2 ones,
// by action and region.
func TestStatsCountSSM(t *testing.T) {
	t.Parallel()
	cloud := testenv.LocalCloud(t, fast())
	c := ssm.NewFromConfig(testenv.AWSConfig(cloud.URL(), "eu-west-1"))
	ctx := context.Background()
	if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/images/app"), Value: aws.String("ami-0123456789abcdef0"),
		Type: types.ParameterTypeString, DataType: aws.String("aws:ec2:image")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/images/app")}); err != nil {
		t.Fatal(err)
	}
	st := cloud.Stats()
	if st.Actions["PutParameter"] != 1 || st.Actions["GetParameter"] != 1 || st.Regions["eu-west-1"].Actions["PutParameter"] != 1 {
		t.Errorf("stats %+v, want one PutParameter and one GetParameter in eu-west-1", st)
	}
}

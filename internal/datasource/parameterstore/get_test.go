package parameterstore

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// fakeSSM answers GetParameter with p or err, recording the request.
type fakeSSM struct {
	p   *types.Parameter
	err error
	in  *ssm.GetParameterInput
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	return &ssm.GetParameterOutput{Parameter: f.p}, nil
}

func TestGet(t *testing.T) {
	param := &types.Parameter{Value: aws.String("ami-0123456789abcdef0"), Version: 7, ARN: aws.String("arn:aws:ssm:eu-west-1:1:parameter/base"), Type: types.ParameterTypeString}
	secure := &types.Parameter{Value: aws.String("hunter2"), Version: 1, ARN: aws.String("arn:aws:ssm:eu-west-1:1:parameter/pw"), Type: types.ParameterTypeSecureString}
	tests := []struct {
		name    string
		fake    *fakeSSM
		decrypt bool
		want    Output
		wantErr string
	}{
		{"found", &fakeSSM{p: param}, false, Output{Value: "ami-0123456789abcdef0", Version: "7", ARN: "arn:aws:ssm:eu-west-1:1:parameter/base"}, ""},
		{"decrypted", &fakeSSM{p: param}, true, Output{Value: "ami-0123456789abcdef0", Version: "7", ARN: "arn:aws:ssm:eu-west-1:1:parameter/base"}, ""},
		{"secure string", &fakeSSM{p: secure}, true, Output{Value: "hunter2", Version: "1", ARN: "arn:aws:ssm:eu-west-1:1:parameter/pw", Secure: true}, ""},
		{"not found", &fakeSSM{err: &smithy.GenericAPIError{Code: "ParameterNotFound"}}, false, Output{}, "parameter /base not found in eu-west-1; check the name and the region"},
		{"denied", &fakeSSM{err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}}, false, Output{}, "get parameter /base in eu-west-1: api error AccessDeniedException"},
		{"empty answer", &fakeSSM{}, false, Output{}, "empty answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Get(context.Background(), tt.fake, "/base", tt.decrypt, "eu-west-1")
			if aws.ToString(tt.fake.in.Name) != "/base" || aws.ToBool(tt.fake.in.WithDecryption) != tt.decrypt {
				t.Errorf("request Name=%q WithDecryption=%v", aws.ToString(tt.fake.in.Name), aws.ToBool(tt.fake.in.WithDecryption))
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Get = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

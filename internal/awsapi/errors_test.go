package awsapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

func apiErr(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "message for " + code}
}

// sdkErr wraps an API error the way the SDK does after retries.
func sdkErr(code string) error {
	return &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeImages",
		Err: &retry.MaxAttemptsError{Attempt: 3, Err: apiErr(code)}}
}

func TestErrorHelpers(t *testing.T) {
	type flags struct{ notFound, gone, eventual, throttle, duplicate, cred bool }
	tests := []struct {
		code string
		want flags
	}{
		{"InvalidInstanceID.NotFound", flags{notFound: true, gone: true, eventual: true}},
		{"InvalidAMIID.NotFound", flags{notFound: true, gone: true, eventual: true}},
		{"InvalidSnapshot.NotFound", flags{notFound: true, gone: true, eventual: true}},
		{"InvalidGroup.NotFound", flags{notFound: true, gone: true, eventual: true}},
		{"InvalidKeyPair.NotFound", flags{notFound: true, gone: true, eventual: true}},
		{"InvalidVolume.NotFound", flags{notFound: true, gone: true, eventual: true}},
		{"InvalidSubnetID.NotFound", flags{notFound: true, gone: true}},
		{"ParameterNotFound", flags{notFound: true, gone: true}},
		{"InvalidAMIID.Unavailable", flags{gone: true}},
		{"RequestLimitExceeded", flags{throttle: true}},
		{"Throttling", flags{throttle: true}},
		{"InvalidAMIName.Duplicate", flags{duplicate: true}},
		{"InvalidKeyPair.Duplicate", flags{duplicate: true}},
		{"InvalidGroup.Duplicate", flags{duplicate: true}},
		{"AuthFailure", flags{cred: true}},
		{"ExpiredToken", flags{cred: true}},
		{"InvalidParameterValue", flags{}},
		{"InvalidAMIID.Malformed", flags{}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			for _, err := range []error{apiErr(tt.code), sdkErr(tt.code), fmt.Errorf("copy ami-1: %w", sdkErr(tt.code))} {
				if got := ErrorCode(err); got != tt.code {
					t.Errorf("ErrorCode(%v) = %q", err, got)
				}
				got := flags{IsNotFound(err), IsGone(err), IsEventualNotFound(err),
					IsThrottle(err), IsDuplicate(err), IsCredentialError(err)}
				if got != tt.want {
					t.Errorf("flags(%v) = %+v, want %+v", err, got, tt.want)
				}
			}
		})
	}
}

func TestErrorHelpersOnNonAPIErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("dial tcp: connection refused")} {
		if ErrorCode(err) != "" || ErrorMessage(err) != "" || IsNotFound(err) || IsThrottle(err) ||
			IsDuplicate(err) || IsGone(err) || IsCredentialError(err) {
			t.Errorf("%v is classified as an AWS error", err)
		}
	}
	if got := ErrorMessage(sdkErr("AuthFailure")); got != "message for AuthFailure" {
		t.Errorf("ErrorMessage = %q", got)
	}
}

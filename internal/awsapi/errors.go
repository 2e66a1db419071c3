package awsapi

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// This file is the one place in imgbuild that reads AWS error codes.
// Callers ask questions (IsNotFound, IsThrottle, ...) instead of comparing
// strings, so a code AWS adds or renames is fixed here once.

// EventualConsistencyCodes are the EC2 error codes that a just-created
// resource can return for a short while (aws.md 3.9). They are retried only
// where a caller opts in with RetryEventual, and waits treat them as pending
// during WaitSpec.Grace.
var EventualConsistencyCodes = []string{
	"InvalidInstanceID.NotFound",
	"InvalidAMIID.NotFound",
	"InvalidSnapshot.NotFound",
	"InvalidVolume.NotFound",
	"InvalidGroup.NotFound",
	"InvalidKeyPair.NotFound",
}

// notFoundCodes are not-found codes that do not follow EC2's ".NotFound"
// suffix convention (SSM, S3).
var notFoundCodes = map[string]bool{
	"ParameterNotFound": true,
	"NoSuchKey":         true,
	"NoSuchBucket":      true,
	"NotFound":          true,
	// EC2's launch templates break the convention.
	"InvalidLaunchTemplateName.NotFoundException": true,
}

// credentialCodes mean the request was refused because of who sent it.
var credentialCodes = map[string]bool{
	"AuthFailure":                 true,
	"InvalidClientTokenId":        true,
	"SignatureDoesNotMatch":       true,
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"RequestExpired":              true,
	"UnrecognizedClientException": true,
	"IncompleteSignature":         true,
	"InvalidAccessKeyId":          true,
}

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// ErrorCode returns the AWS error code carried anywhere in err's chain, such
// as "InvalidAMIID.NotFound", or "" when err is not an AWS API error.
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// ErrorMessage returns the AWS error message carried in err's chain, or "".
func ErrorMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// IsNotFound reports whether err says the resource does not exist
// (InvalidInstanceID.NotFound, InvalidAMIID.NotFound, ParameterNotFound, ...).
// It does not include InvalidAMIID.Unavailable: see IsGone.
func IsNotFound(err error) bool {
	code := ErrorCode(err)
	return strings.HasSuffix(code, ".NotFound") || notFoundCodes[code]
}

// IsGone reports whether err says the resource no longer exists or can no
// longer be used, which makes a cleanup delete a success: IsNotFound or
// InvalidAMIID.Unavailable (a deregistered image).
func IsGone(err error) bool {
	return IsNotFound(err) || ErrorCode(err) == "InvalidAMIID.Unavailable"
}

// IsEventualNotFound reports whether err carries one of
// EventualConsistencyCodes, the NotFound a just-created resource may return.
func IsEventualNotFound(err error) bool {
	code := ErrorCode(err)
	for _, c := range EventualConsistencyCodes {
		if c == code {
			return true
		}
	}
	return false
}

// IsThrottle reports whether err is a throttling error such as
// RequestLimitExceeded, using the SDK's list of throttle codes.
func IsThrottle(err error) bool {
	return err != nil && throttles.IsErrorThrottle(err).Bool()
}

// IsDuplicate reports whether err says a resource with that name already
// exists (InvalidAMIName.Duplicate, InvalidKeyPair.Duplicate,
// InvalidGroup.Duplicate, SSM ParameterAlreadyExists).
func IsDuplicate(err error) bool {
	code := ErrorCode(err)
	return strings.HasSuffix(code, ".Duplicate") || code == "ParameterAlreadyExists"
}

// IsCredentialError reports whether AWS refused the request because of the
// credentials used (AuthFailure, InvalidClientTokenId, ExpiredToken, ...).
func IsCredentialError(err error) bool {
	return credentialCodes[ErrorCode(err)]
}

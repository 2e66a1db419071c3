package awsapi

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Identity is who the credentials belong to, from sts GetCallerIdentity.
type Identity struct {
	Account string
	ARN     string
	// Source is the SDK's name for the provider that supplied the
	// credentials, e.g. "EnvConfigCredentials" or "AssumeRoleProvider".
	Source string
}

// validate retrieves credentials and asks STS whose they are. Its errors
// say which source was tried and what to do about it.
func (a Access) validate(ctx context.Context, cfg aws.Config) (Identity, error) {
	if cfg.Credentials == nil {
		return Identity{}, a.credentialError("no credentials were found", nil)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return Identity{}, a.credentialError("retrieve credentials", err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		what := fmt.Sprintf("sts GetCallerIdentity rejected the credentials from %s", creds.Source)
		return Identity{}, a.credentialError(what, err)
	}
	return Identity{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		Source:  creds.Source,
	}, nil
}

// credentialError builds the validation error: what failed, the source
// tried, the cause, and a hint. Secrets are scrubbed from all of it.
func (a Access) credentialError(what string, cause error) error {
	msg := fmt.Sprintf("validate aws credentials (%s): %s", a.credentialSource(), what)
	hint := a.credentialHint()
	if cause == nil {
		return &scrubbedError{msg: msg + "; " + hint, secrets: a.secrets()}
	}
	return &scrubbedError{
		msg:     fmt.Sprintf("%s: %v; %s", msg, cause, hint),
		cause:   cause,
		secrets: a.secrets(),
	}
}

func (a Access) credentialHint() string {
	const skip = "or set skip_credential_validation = true if the endpoint does not implement STS"
	switch {
	case a.AssumeRole != nil && a.AssumeRole.RoleARN != "":
		return "check that the base credentials may call sts:AssumeRole on the role and that its " +
			"trust policy (and external_id) allows them, " + skip
	case a.AccessKey != "":
		return "check that access_key and secret_key are active and that token is current " +
			"for temporary keys, " + skip
	case a.Profile != "":
		return fmt.Sprintf("check profile %q in the shared config and credentials files "+
			"(run `aws sso login --profile %s` for SSO profiles), %s", a.Profile, a.Profile, skip)
	default:
		return "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, configure " +
			"~/.aws/credentials, or run on an instance with a role, " + skip
	}
}

// scrubbedError reports an error with secrets replaced. Unwrap keeps the
// cause for errors.Is/As; code that prints the cause on its own bypasses
// the scrub, so only print the scrubbedError.
type scrubbedError struct {
	msg     string
	cause   error
	secrets []string
}

// Error returns the message with every secret replaced by "<redacted>".
func (e *scrubbedError) Error() string {
	return scrub(e.msg, e.secrets)
}

// Unwrap returns the cause.
func (e *scrubbedError) Unwrap() error { return e.cause }

func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, "<redacted>")
	}
	return s
}

// scrubError wraps err so its message cannot carry a's secrets.
func (a Access) scrubError(err error) error {
	if err == nil {
		return nil
	}
	return &scrubbedError{msg: err.Error(), cause: err, secrets: a.secrets()}
}

package amazon

import (
	"github.com/imgbuild/imgbuild/internal/check"
)

// The settings below are parsed (Packer templates use them) but this
// version cannot honour them yet. Each is refused at validate time, at its
// own attribute, before anything is created; the README lists them under
// "Settings not implemented yet". They run before any default is filled,
// so only what a template sets is refused.

const (
	hintCredentials = "Give credentials through profile, access_key and secret_key, assume_role or the AWS_* environment variables instead."
	hintSSM         = `It only applies to ssh_interface = "session_manager", which is not implemented yet: remove it.`
)

// refuseUnimplemented refuses the access settings awsapi cannot carry.
func (c *AccessConfig) refuseUnimplemented(ctx *check.Context) {
	ctx.RefuseSet(check.Path("vault_aws_engine"), c.VaultAWSEngine != VaultAWSEngine{}, hintCredentials)
	ctx.RefuseSet(check.Path("mfa_code"), c.MFACode != "",
		"Export temporary credentials made with the MFA code (aws sts get-session-token) into the AWS_* environment variables, or use a profile that caches them.")
	ctx.RefuseSet(check.Path("insecure_skip_tls_verify"), c.InsecureSkipTLSVerify,
		"Point AWS_CA_BUNDLE at the endpoint's CA certificate instead.")
	ctx.RefuseSet(check.Path("decode_authorization_messages"), c.DecodeAuthorizationMessages,
		"Remove it; decode a message with `aws sts decode-authorization-message`.")
}

// refuseUnimplemented refuses the run settings with no implementation:
// Session Manager.
func (c *RunConfig) refuseUnimplemented(ctx *check.Context) {
	if c.SSHInterface == "session_manager" {
		ctx.NotImplemented(check.Path("ssh_interface"), `ssh_interface = "session_manager"`,
			"Use public_ip, private_ip, public_dns or private_dns.")
	}
	ctx.RefuseSet(check.Path("pause_before_ssm"), c.PauseBeforeSSM != "", hintSSM)
	ctx.RefuseSet(check.Path("session_manager_port"), c.SessionManagerPort != 0, hintSSM)
	ctx.RefuseSet(check.Path("skip_profile_validation"), c.SkipProfileValidation,
		"imgbuild does not look iam_instance_profile up before the launch, so there is nothing to skip: remove it.")
}

// PrepareQuery is Prepare for a data source: it also refuses aws_polling,
// since a data source makes one request and waits for nothing.
func (c *AccessConfig) PrepareQuery(ctx *check.Context) {
	c.Prepare(ctx)
	ctx.RefuseSet(check.Path("aws_polling"), c.AWSPolling != AWSPolling{},
		"A data source makes one request and waits for nothing: remove it.")
}

package journal

import (
	"fmt"
	"strings"
)

// Access is how one build of a run reached AWS: the account its
// credentials belong to and the settings that chose them, recorded when
// the build's session is made, before it creates anything. Cleanup checks
// it before touching the build's resources. It never holds secrets: no
// access key ID, secret key, session token, external ID or session policy.
type Access struct {
	// Build is the build the access is for.
	Build string `json:"build"`
	// Account is the AWS account ID of the credentials, from sts
	// GetCallerIdentity; empty when the build skipped credential
	// validation (skip_credential_validation).
	Account string `json:"account,omitempty"`
	// ARN is the caller's ARN, from the same call.
	ARN string `json:"arn,omitempty"`
	// Source is the SDK's name for the provider that supplied the
	// credentials, e.g. "EnvConfigCredentials" or "AssumeRoleProvider".
	Source string `json:"source,omitempty"`
	// Region is the build's region.
	Region string `json:"region,omitempty"`
	// Profile is the shared configuration profile the template named.
	Profile string `json:"profile,omitempty"`
	// RoleARN is the role the build assumed (assume_role {}).
	RoleARN string `json:"role_arn,omitempty"`
	// SharedCredentialsFile is the credentials file the template named.
	SharedCredentialsFile string `json:"shared_credentials_file,omitempty"`
	// CustomEndpointEC2 is the EC2 endpoint the template named: the build's
	// resources are there, and cleanup reaches them there.
	CustomEndpointEC2 string `json:"custom_endpoint_ec2,omitempty"`
	// StaticKeys is true when the template gave access_key and secret_key
	// (which are not recorded).
	StaticKeys bool `json:"static_keys,omitempty"`
}

// Settings describes in words the settings that chose the credentials,
// e.g. `profile "ci", role arn:aws:iam::111122223333:role/build`;
// "default credentials" when none was set.
func (a Access) Settings() string {
	var parts []string
	if a.StaticKeys {
		parts = append(parts, "access_key and secret_key from the template")
	}
	if a.Profile != "" {
		parts = append(parts, fmt.Sprintf("profile %q", a.Profile))
	}
	if a.SharedCredentialsFile != "" {
		parts = append(parts, "credentials file "+a.SharedCredentialsFile)
	}
	if a.RoleARN != "" {
		parts = append(parts, "role "+a.RoleARN)
	}
	if len(parts) == 0 {
		parts = append(parts, "default credentials")
	}
	if a.Source != "" {
		parts = append(parts, "from "+a.Source)
	}
	return strings.Join(parts, ", ")
}

// Access records how a build reaches AWS. Call it when the build's session
// is made, before its first Intent. a needs a Build.
func (w *Writer) Access(a Access) error {
	if a.Build == "" {
		return fmt.Errorf("journal %s: access record needs a build", w.path)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.appendLocked(record{Kind: kindAccess, Access: &a})
}

// AccessOf returns the access recorded for build, the latest if several
// were. For a resource recorded without a build (one a cleanup found, say)
// build is empty: AccessOf then returns the run's one account when all its
// recorded accesses share it. ok is false when there is nothing to check
// against: a run written before accesses were recorded, or accounts that
// disagree.
func (r *Run) AccessOf(build string) (a Access, ok bool) {
	if build == "" {
		return r.soleAccount()
	}
	for i := len(r.Accesses) - 1; i >= 0; i-- {
		if r.Accesses[i].Build == build {
			return r.Accesses[i], true
		}
	}
	return Access{}, false
}

// soleAccount returns the run's recorded access when every build that
// recorded one used the same account.
func (r *Run) soleAccount() (Access, bool) {
	if len(r.Accesses) == 0 {
		return Access{}, false
	}
	first := r.Accesses[0]
	for _, a := range r.Accesses[1:] {
		if a.Account != first.Account || a.CustomEndpointEC2 != first.CustomEndpointEC2 {
			return Access{}, false
		}
	}
	return Access{Account: first.Account, ARN: first.ARN, CustomEndpointEC2: first.CustomEndpointEC2}, true
}

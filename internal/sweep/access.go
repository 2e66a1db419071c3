package sweep

import (
	"context"
	"fmt"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// AccessRecord returns what a journal records of build's access a, whose
// credentials id says are for: the account, the caller and the settings
// that chose the credentials, never a secret (no keys, token, external ID
// or session policy). A builder writes it with journal.Writer.Access when
// it makes the build's session; a cleanup compares it with its own.
func AccessRecord(build string, a awsapi.Access, id awsapi.Identity) journal.Access {
	r := journal.Access{
		Build: build, Account: id.Account, ARN: id.ARN, Source: id.Source,
		Region: a.Region, Profile: a.Profile, SharedCredentialsFile: a.SharedCredentialsFile,
		CustomEndpointEC2: a.CustomEndpointEC2, StaticKeys: a.AccessKey != "",
	}
	if a.AssumeRole != nil {
		r.RoleARN = a.AssumeRole.RoleARN
	}
	return r
}

// Access is a way into AWS for a cleanup: a session and what it is.
type Access struct {
	Session *awsapi.Session
	// Settings is AccessRecord of the session: its account and settings.
	Settings journal.Access
	// From says where the access comes from, for people: "the
	// environment's credentials", "template web.pkr.hcl".
	From string
}

// Connector opens the access that cleans up a build's resources.
type Connector interface {
	// Connect returns the access for the resources of the build that
	// recorded rec (rec.Build; everything else zero for a run written
	// before accesses were recorded, or for a tag sweep). The access
	// reaches EC2 through rec.CustomEndpointEC2 when it is set: the
	// resources are there.
	Connect(ctx context.Context, rec journal.Access) (Access, error)
}

// AccessError is a refusal to clean up a build's resources: the access at
// hand is for another account than the one the build used. Nothing of the
// build was touched.
type AccessError struct {
	RunID string
	// Template is the template the run built, from its journal.
	Template string
	// Recorded is the access the build used; Current the one at hand.
	Recorded journal.Access
	Current  Access
}

func (e *AccessError) Error() string {
	cur := fmt.Sprintf("%s are for account %s (%s)", e.Current.From, e.Current.Settings.Account, e.Current.Settings.ARN)
	switch {
	case e.Recorded.Account == "":
		return fmt.Sprintf("run %s was made in several accounts and recorded some resources without their build, so their account is unknown; %s; nothing of them was touched",
			e.RunID, cur)
	case e.Recorded.Build == "":
		return fmt.Sprintf("run %s was made in account %s, but %s; nothing of it was touched", e.RunID, e.Recorded.Account, cur)
	}
	return fmt.Sprintf("run %s: build %s was made in account %s (%s), but %s; nothing of the build was touched",
		e.RunID, e.Recorded.Build, e.Recorded.Account, e.Recorded.Settings(), cur)
}

// checkAccess compares the access a build recorded with the one at hand.
// It returns an *AccessError when the accounts differ, and a warning (and
// no error) when either account is unknown, so the resources are cleaned
// up unchecked.
func checkAccess(run *journal.Run, build string, cur Access) (warning string, err error) {
	rec, ok := run.AccessOf(build)
	switch {
	case !ok && build == "" && len(run.Accesses) > 0:
		return "", &AccessError{RunID: run.Header.RunID, Template: run.Header.Template, Current: cur}
	case !ok:
		return fmt.Sprintf("its journal records no account (written by an imgbuild older than format 2); cleaning up with %s (account %s) unchecked",
			cur.From, cur.Settings.Account), nil
	case rec.Account == "":
		return fmt.Sprintf("the build skipped credential validation, so its account is unknown; cleaning up with %s (account %s) unchecked",
			cur.From, cur.Settings.Account), nil
	case cur.Settings.Account == "":
		return fmt.Sprintf("%s skip credential validation, so they cannot be checked against account %s; cleaning up unchecked",
			cur.From, rec.Account), nil
	case rec.Account != cur.Settings.Account:
		return "", &AccessError{RunID: run.Header.RunID, Template: run.Header.Template, Recorded: rec, Current: cur}
	}
	return "", nil
}

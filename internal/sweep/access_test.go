package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// TestAccessRecordHoldsNoSecret: the journal record of an access keeps the
// settings that chose the credentials and never a secret.
func TestAccessRecordHoldsNoSecret(t *testing.T) {
	a := awsapi.Access{Region: "eu-west-1", Profile: "ci", AccessKey: "AKIASECRETKEYID", SecretKey: "s3cr3t",
		Token: "t0ken", SharedCredentialsFile: "/creds", CustomEndpointEC2: "https://ec2.example",
		AssumeRole: &awsapi.AssumeRole{RoleARN: "arn:aws:iam::111122223333:role/build", ExternalID: "ext-id-42",
			Policy: `{"Version":"2012-10-17"}`, SessionName: "sess"}}
	id := awsapi.Identity{Account: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/build/sess", Source: "AssumeRoleProvider"}
	got := AccessRecord("web", a, id)
	want := journal.Access{Build: "web", Account: "111122223333", ARN: id.ARN, Source: "AssumeRoleProvider",
		Region: "eu-west-1", Profile: "ci", RoleARN: "arn:aws:iam::111122223333:role/build",
		SharedCredentialsFile: "/creds", CustomEndpointEC2: "https://ec2.example", StaticKeys: true}
	if got != want {
		t.Errorf("AccessRecord =\n%+v\nwant\n%+v", got, want)
	}
	b, err := json.Marshal(got)
	mustDo(t, err)
	for _, secret := range []string{"AKIASECRETKEYID", "s3cr3t", "t0ken", "ext-id-42", "2012-10-17"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("record %s holds %q", b, secret)
		}
	}
}

// TestCheckAccess covers each verdict on a build's account.
func TestCheckAccess(t *testing.T) {
	cur := func(account string) Access {
		return Access{Settings: journal.Access{Account: account, ARN: "arn:aws:iam::" + account + ":user/me"}, From: "the environment's credentials"}
	}
	web := journal.Access{Build: "web", Account: "111122223333", Profile: "ci"}
	db := journal.Access{Build: "db", Account: "444455556666"}
	tests := []struct {
		name     string
		accesses []journal.Access
		build    string
		current  Access
		warning  string // substring; "" for none
		refused  string // substring of the AccessError; "" for none
	}{
		{"same account", []journal.Access{web}, "web", cur("111122223333"), "", ""},
		{"other account", []journal.Access{web}, "web", cur("999999999999"), "",
			`run r: build web was made in account 111122223333 (profile "ci"), but the environment's credentials are for account 999999999999 (arn:aws:iam::999999999999:user/me); nothing of the build was touched`},
		{"old journal", nil, "web", cur("999999999999"), "records no account", ""},
		{"build skipped validation", []journal.Access{{Build: "web"}}, "web", cur("999999999999"), "the build skipped credential validation", ""},
		{"cleanup skips validation", []journal.Access{web}, "web", cur(""), "cannot be checked against account 111122223333", ""},
		{"no build, one account", []journal.Access{web}, "", cur("111122223333"), "", ""},
		{"no build, one other account", []journal.Access{web}, "", cur("999999999999"), "", "run r was made in account 111122223333"},
		{"no build, several accounts", []journal.Access{web, db}, "", cur("111122223333"), "", "made in several accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &journal.Run{Header: journal.Header{RunID: "r", Template: "t.pkr.hcl"}, Accesses: tt.accesses}
			warning, err := checkAccess(run, tt.build, tt.current)
			var ae *AccessError
			switch {
			case tt.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.refused != "" && (!errors.As(err, &ae) || !strings.Contains(err.Error(), tt.refused)):
				t.Errorf("error %v, want an AccessError saying %q", err, tt.refused)
			case tt.refused != "" && (ae.RunID != "r" || ae.Template != "t.pkr.hcl"):
				t.Errorf("AccessError %+v does not name the run and its template", ae)
			}
			if (tt.warning == "") != (warning == "") || !strings.Contains(warning, tt.warning) {
				t.Errorf("warning %q, want %q", warning, tt.warning)
			}
		})
	}
}

// TestSessions: a session per distinct access, made once; the template
// loaded once and only when a build needs it; a build's recorded endpoint
// kept.
func TestSessions(t *testing.T) {
	f := newFakeAWS(t)
	loads := 0
	s := &Sessions{Env: keys("111111111111"), TemplatePath: "t.pkr.hcl",
		Template: func(context.Context) (map[string]awsapi.Access, error) {
			loads++
			return map[string]awsapi.Access{"web": keys("222222222222")}, nil
		}}
	ctx := context.Background()
	tagSweep, err := s.Connect(ctx, journal.Access{})
	mustDo(t, err)
	if loads != 0 || tagSweep.Settings.Account != "111111111111" || tagSweep.From != "the environment's credentials" {
		t.Errorf("tag sweep access %+v (template loaded %d times), want the environment's, no template", tagSweep, loads)
	}
	for range 2 {
		web, err := s.Connect(ctx, journal.Access{Build: "web"})
		mustDo(t, err)
		if web.Settings.Account != "222222222222" || web.From != "the credentials of template t.pkr.hcl" {
			t.Errorf("web access %+v, want the template's", web)
		}
	}
	other, err := s.Connect(ctx, journal.Access{Build: "gone"})
	mustDo(t, err)
	if other.Settings.Account != "111111111111" || !strings.Contains(other.From, "template t.pkr.hcl has no build gone") {
		t.Errorf("access of a build the template lacks: %+v", other)
	}
	ep, err := s.Connect(ctx, journal.Access{Build: "web", CustomEndpointEC2: f.url})
	mustDo(t, err)
	if ep.Settings.CustomEndpointEC2 != f.url || ep.Settings.Account != "222222222222" {
		t.Errorf("access with the recorded endpoint: %+v", ep.Settings)
	}
	if loads != 1 {
		t.Errorf("template loaded %d times, want 1", loads)
	}
	// env, web, web through the endpoint: three distinct accesses.
	if n := len(f.calls("GetCallerIdentity")); n != 3 {
		t.Errorf("%d GetCallerIdentity calls, want 3 (one per distinct access)", n)
	}

	s.Template = func(context.Context) (map[string]awsapi.Access, error) { return nil, errors.New("bad template") }
	s.loaded = false
	if _, err := s.Connect(ctx, journal.Access{Build: "web"}); err == nil || !strings.Contains(err.Error(), "template t.pkr.hcl: bad template") {
		t.Errorf("Connect with a broken template: %v", err)
	}
}

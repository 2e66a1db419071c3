package journal

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestAccessRecords writes the access of two builds, reads it back and
// looks it up per build.
func TestAccessRecords(t *testing.T) {
	_, w := createRun(t, "access")
	web1 := Access{Build: "web", Account: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/build/s",
		Source: "AssumeRoleProvider", Region: "us-east-1", Profile: "ci", RoleARN: "arn:aws:iam::111122223333:role/build"}
	db := Access{Build: "db", Account: "444455556666", Region: "eu-west-1", StaticKeys: true}
	web2 := web1
	web2.Region = "eu-central-1"
	for _, a := range []Access{web1, db, web2} {
		must(t, w.Access(a))
	}
	must(t, w.Created(mustIntent(t, w, web), "i-1"))
	if err := w.Access(Access{Account: "1"}); err == nil {
		t.Error("access without a build: no error")
	}
	run := mustRead(t, w.Path())
	if !reflect.DeepEqual(run.Accesses, []Access{web1, db, web2}) {
		t.Errorf("Accesses = %+v", run.Accesses)
	}
	if a, ok := run.AccessOf("web"); !ok || a != web2 {
		t.Errorf("AccessOf(web) = %+v, %v; want the latest", a, ok)
	}
	if a, ok := run.AccessOf("db"); !ok || a != db {
		t.Errorf("AccessOf(db) = %+v, %v", a, ok)
	}
	if _, ok := run.AccessOf("other"); ok {
		t.Error("AccessOf(other): found an access for a build that recorded none")
	}
	if _, ok := run.AccessOf(""); ok {
		t.Error("AccessOf(\"\") with two accounts: want no access")
	}
}

// TestAccessOfNoBuild: a resource without a build is checked against the
// run's account when all its builds share one.
func TestAccessOfNoBuild(t *testing.T) {
	_, w := createRun(t, "sole")
	must(t, w.Access(Access{Build: "a", Account: "111122223333", Profile: "x"}))
	must(t, w.Access(Access{Build: "b", Account: "111122223333", RoleARN: "arn:aws:iam::111122223333:role/r"}))
	a, ok := mustRead(t, w.Path()).AccessOf("")
	if !ok || a.Account != "111122223333" {
		t.Errorf("AccessOf(\"\") = %+v, %v; want the shared account", a, ok)
	}
}

// TestReadFormat1: a run written before access records (format 1) still
// reads, with no accesses.
func TestReadFormat1(t *testing.T) {
	_, w := createRun(t, "old")
	must(t, w.Created(mustIntent(t, w, web), "i-1"))
	must(t, w.Close())
	data, err := os.ReadFile(w.Path())
	must(t, err)
	old := strings.Replace(string(data), `"format":2`, `"format":1`, 1)
	if old == string(data) {
		t.Fatal("header does not say format 2")
	}
	must(t, os.WriteFile(w.Path(), []byte(old), 0o600))
	run := mustRead(t, w.Path())
	if len(run.Accesses) != 0 || ids(run.Leftovers()) != "instance:i-1" {
		t.Errorf("format 1 run: accesses %+v, leftovers %s", run.Accesses, ids(run.Leftovers()))
	}
	if _, ok := run.AccessOf("web"); ok {
		t.Error("AccessOf on a format 1 run: found an access")
	}
}

func TestAccessSettings(t *testing.T) {
	tests := []struct {
		a    Access
		want string
	}{
		{Access{}, "default credentials"},
		{Access{Source: "EnvConfigCredentials"}, "default credentials, from EnvConfigCredentials"},
		{Access{Profile: "ci", RoleARN: "arn:aws:iam::1:role/r"}, `profile "ci", role arn:aws:iam::1:role/r`},
		{Access{StaticKeys: true, SharedCredentialsFile: "/c"}, "access_key and secret_key from the template, credentials file /c"},
	}
	for _, tt := range tests {
		if got := tt.a.Settings(); got != tt.want {
			t.Errorf("%+v.Settings() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

// TestAccessWithoutBuild: an access record must name its build.
func TestAccessWithoutBuild(t *testing.T) {
	_, w := createRun(t, "nobuild")
	must(t, w.Close())
	appendRaw(t, w.Path(), `{"seq":2,"kind":"access","time":"2026-01-02T03:04:05Z","access":{"account":"1"}}`+"\n")
	if _, err := Read(w.Path()); err == nil || !strings.Contains(err.Error(), "line 2: access record 2: missing access or its build") {
		t.Errorf("Read = %v, want the missing build named", err)
	}
}

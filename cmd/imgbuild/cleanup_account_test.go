package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

// The local cloud's moto answers the default credentials as account
// defaultAccount, and credentials from an AssumeRole of a role ARN in
// account otherAccount as that account, with its own EC2 resources: the
// profile "other" of accountCloud's config file assumes such a role.
const (
	defaultAccount = "123456789012"
	otherAccount   = "222222222222"
)

// accountTemplate launches an instance with communicator "none"; %s is an
// extra line of its source (a profile).
const accountTemplate = `
source "amazon-ebs" "acct" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  communicator  = "none"
  ami_name      = "acct-{{timestamp}}"
  %s
  source_ami_filter {
    filters     = { name = "amzn2-ami-hvm-*-x86_64-gp2" }
    owners      = ["amazon"]
    most_recent = true
  }
}

build {
  sources = ["source.amazon-ebs.acct"]
}
`

// accountCloud is a local cloud that, while failing is set, fails
// StopInstances and TerminateInstances, so that a build fails and leaves
// its instance behind; and an AWS config file with profile "other".
type accountCloud struct {
	t       *testing.T
	dir     string
	failing atomic.Bool
}

func newAccountCloud(t *testing.T) *accountCloud {
	t.Helper()
	s, err := localcloud.ProfileSettings(localcloud.Instant)
	if err != nil {
		t.Fatal(err)
	}
	s.SSH = false
	c := &accountCloud{t: t, dir: t.TempDir()}
	cloud := testenv.LocalCloudWith(t, localcloud.Options{Settings: s, Intercept: c.intercept})
	// The SDK makes the STS client of a profile's role_arn before it reads
	// AWS_ENDPOINT_URL, so only AWS_ENDPOINT_URL_STS reaches it.
	for _, kv := range append(cloud.Env(), "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_STS="+cloud.URL()) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // the SDK reads the process environment
	}
	c.write("credentials", "[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
	c.write("config", fmt.Sprintf("[profile other]\nrole_arn = arn:aws:iam::%s:role/imgbuild-cleanup-test\n"+
		"source_profile = base\nregion = us-east-1\n", otherAccount))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(c.dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(c.dir, "credentials"))
	c.useProfile("")
	t.Setenv("IMGBUILD_STATE_DIR", filepath.Join(c.dir, "state"))
	return c
}

// useProfile makes profile the environment's credentials: keys in the
// environment win over AWS_PROFILE, so they are unset for a profile.
func (c *accountCloud) useProfile(profile string) {
	key, secret := "testing", "testing"
	if profile != "" {
		key, secret = "", ""
	}
	c.t.Setenv("AWS_ACCESS_KEY_ID", key)
	c.t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	c.t.Setenv("AWS_PROFILE", profile)
}

func (c *accountCloud) intercept(r localcloud.Request, p localcloud.Phase) localcloud.Verdict {
	if c.failing.Load() && p == localcloud.BeforeForward && (r.Action == "StopInstances" || r.Action == "TerminateInstances") {
		return localcloud.Fail
	}
	return localcloud.Continue
}

func (c *accountCloud) write(name, data string) {
	c.t.Helper()
	must(c.t, os.WriteFile(filepath.Join(c.dir, name), []byte(data), 0o600))
}

// imgbuild runs the CLI in-process with AWS_PROFILE set to profile, or
// with the default credentials (the environment's keys) for "".
func (c *accountCloud) imgbuild(profile string, args ...string) (int, string, string) {
	c.t.Helper()
	c.useProfile(profile)
	defer c.useProfile("")
	var out, errOut bytes.Buffer
	code := realMain(args, &out, &errOut, os.Getenv)
	c.t.Logf("AWS_PROFILE=%s imgbuild %s: exit %d\nstdout:\n%sstderr:\n%s", profile, strings.Join(args, " "), code, out.String(), errOut.String())
	return code, out.String(), errOut.String()
}

// leaveRun builds a template whose source has the extra line, failing it
// after launch and failing its cleanup, and returns the run ID and the
// instance left behind, read from the journal along with its access.
func (c *accountCloud) leaveRun(line string) (string, string, journal.Access) {
	c.t.Helper()
	c.write("main.pkr.hcl", fmt.Sprintf(accountTemplate, line))
	c.failing.Store(true)
	code, out, _ := c.imgbuild("", "build", c.dir)
	c.failing.Store(false)
	if code != exitFailed {
		c.t.Fatalf("build: exit %d, want %d (failed, instance left behind)", code, exitFailed)
	}
	runID := runIDFrom(c.t, out)
	run, err := journal.Read(journal.RunPath(filepath.Join(c.dir, "state"), runID))
	must(c.t, err)
	var instance string
	for _, r := range run.Leftovers() {
		if r.Type == journal.Instance {
			instance = r.ID
		}
	}
	if instance == "" || len(run.Accesses) != 1 {
		c.t.Fatalf("run %s: leftovers %+v, accesses %+v; want an instance and one access", runID, run.Leftovers(), run.Accesses)
	}
	return runID, instance, run.Accesses[0]
}

// running reports whether instance exists and is not terminated, in the
// account of profile ("" for the default credentials).
func (c *accountCloud) running(profile, instance string) bool {
	c.t.Helper()
	ctx := context.Background()
	opts := []func(*config.LoadOptions) error{config.WithRegion("us-east-1")}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	must(c.t, err)
	out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instance}})
	if err != nil && strings.Contains(err.Error(), "NotFound") {
		return false
	}
	must(c.t, err)
	for _, rv := range out.Reservations {
		for _, i := range rv.Instances {
			if aws.ToString(i.InstanceId) == instance && i.State.Name != ec2types.InstanceStateNameTerminated {
				return true
			}
		}
	}
	return false
}

// TestCleanupAccountRefused: a run left over in the default account is
// refused by a cleanup whose credentials are for another account, which
// exits 1 naming the run, both accounts and what to do, and touches
// nothing; a cleanup with the run's credentials then removes it.
func TestCleanupAccountRefused(t *testing.T) {
	c := newAccountCloud(t)
	runID, instance, access := c.leaveRun("")
	if access.Account != defaultAccount || access.Build != "amazon-ebs.acct" {
		t.Errorf("journaled access %+v, want account %s of build amazon-ebs.acct", access, defaultAccount)
	}

	code, _, errOut := c.imgbuild("other", "cleanup", "--run", runID)
	if code != exitFailed {
		t.Errorf("cleanup with another account's credentials: exit %d, want %d", code, exitFailed)
	}
	for _, want := range []string{
		fmt.Sprintf("run %s: build amazon-ebs.acct was made in account %s", runID, defaultAccount),
		fmt.Sprintf("the environment's credentials are for account %s", otherAccount),
		"nothing of the build was touched",
		"run the cleanup with credentials for account " + defaultAccount,
		fmt.Sprintf("`imgbuild cleanup --run %s %s`", runID, c.dir),
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if !c.running("", instance) {
		t.Fatalf("instance %s was touched by a refused cleanup", instance)
	}
	if runs, _ := journal.List(filepath.Join(c.dir, "state")); len(runs) != 1 || !runs[0].Orphaned() {
		t.Fatalf("a refused run must stay open for a cleanup: %+v", runs)
	}

	code, out, errOut := c.imgbuild("", "cleanup", "--run", runID)
	if code != exitOK || !strings.Contains(out, "terminated instance "+instance) || strings.Contains(errOut, "warning") {
		t.Fatalf("cleanup with the run's credentials: exit %d, want %d, the instance terminated and no warning", code, exitOK)
	}
	if c.running("", instance) {
		t.Errorf("instance %s still running", instance)
	}
}

// TestCleanupTemplateProfile: a run made with a template's profile, which
// assumes a role in another account, is refused with the environment's
// default credentials, and finished by `imgbuild cleanup TEMPLATE`, which
// rebuilds the template's access.
func TestCleanupTemplateProfile(t *testing.T) {
	c := newAccountCloud(t)
	runID, instance, access := c.leaveRun(`profile = "other"`)
	if access.Account != otherAccount || access.Profile != "other" {
		t.Fatalf("journaled access %+v, want account %s through profile other", access, otherAccount)
	}
	if !c.running("other", instance) || c.running("", instance) {
		t.Fatalf("instance %s should run in account %s only", instance, otherAccount)
	}

	code, _, errOut := c.imgbuild("", "cleanup", "--run", runID)
	if code != exitFailed || !strings.Contains(errOut, fmt.Sprintf("made in account %s (profile \"other\"", otherAccount)) ||
		!strings.Contains(errOut, "AWS_PROFILE=other") {
		t.Errorf("cleanup with the default credentials: exit %d, want %d and the profile named", code, exitFailed)
	}
	if !c.running("other", instance) {
		t.Fatalf("instance %s was touched by a refused cleanup", instance)
	}

	code, out, _ := c.imgbuild("", "cleanup", "--run", runID, c.dir)
	if code != exitOK || !strings.Contains(out, "terminated instance "+instance) {
		t.Fatalf("cleanup TEMPLATE: exit %d, want %d and the instance terminated", code, exitOK)
	}
	if c.running("other", instance) {
		t.Errorf("instance %s still running in account %s", instance, otherAccount)
	}
	if runs, _ := journal.List(filepath.Join(c.dir, "state")); len(runs) != 1 || !runs[0].Ended {
		t.Errorf("run not ended after cleanup TEMPLATE: %+v", runs)
	}
}

package ebs

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/internal/builder"
)

// recorder is a builder.Planner that records "id<-deps" per step, with
// one provisioner step "prov" (which stops the instance with stops) and a
// post-processor step "pp".
type recorder struct {
	steps    []string
	stops    bool
	existing map[string]builder.Found
}

func (r *recorder) Add(s *builder.Step, after ...*builder.Step) *builder.Step {
	var deps []string
	for _, a := range after {
		deps = append(deps, a.ID)
	}
	r.steps = append(r.steps, s.ID+"<-"+strings.Join(deps, ","))
	return s
}

func (r *recorder) Provisioners(last *builder.Step) *builder.Step {
	return r.Add(&builder.Step{ID: "prov", StopsInstance: r.stops}, last)
}

func (r *recorder) PostProcessors(last *builder.Step)  { r.Add(&builder.Step{ID: "pp"}, last) }
func (r *recorder) Existing() map[string]builder.Found { return r.existing }

// TestPlanComposesSharedSteps checks the amazon-ebs pipeline built from
// the shared steps for the settings that change its shape.
func TestPlanComposesSharedSteps(t *testing.T) {
	for name, tc := range map[string]struct {
		set   func(c *Config)
		want  []string
		stops bool // the last provisioner stops the instance (sysprep)
	}{
		"winrm without password, sysprep last": {func(c *Config) { c.Type, c.WinRMUsername = "winrm", "Administrator" }, []string{
			"resolve-source<-", "key-pair<-resolve-source", "security-group<-resolve-source",
			"launch<-resolve-source,key-pair,security-group", "password<-launch", "connect<-password", "prov<-connect",
			"await-stop<-prov", "create-image<-await-stop", "finalize:us-east-1<-create-image", "copy:eu-west-1<-create-image",
			"finalize:eu-west-1<-copy:eu-west-1", "join<-finalize:us-east-1,finalize:eu-west-1", "pp<-join",
		}, true},
		"winrm with password, disable_stop_instance": {func(c *Config) {
			c.Type, c.WinRMUsername, c.WinRMPassword, c.DisableStopInstance = "winrm", "Administrator", "pw", true
		}, []string{
			"resolve-source<-", "security-group<-resolve-source", "launch<-resolve-source,security-group", "connect<-launch",
			"prov<-connect", "await-stop<-prov", "create-image<-await-stop", "finalize:us-east-1<-create-image",
			"copy:eu-west-1<-create-image", "finalize:eu-west-1<-copy:eu-west-1", "join<-finalize:us-east-1,finalize:eu-west-1", "pp<-join",
		}, false},
		"default": {func(*Config) {}, []string{
			"resolve-source<-", "key-pair<-resolve-source", "security-group<-resolve-source",
			"launch<-resolve-source,key-pair,security-group", "connect<-launch", "prov<-connect", "stop<-prov",
			"create-image<-stop", "finalize:us-east-1<-create-image", "copy:eu-west-1<-create-image",
			"finalize:eu-west-1<-copy:eu-west-1", "join<-finalize:us-east-1,finalize:eu-west-1", "pp<-join",
		}, false},
		"no_reboot, communicator none": {func(c *Config) { c.NoReboot, c.Type = true, "none" }, []string{
			"resolve-source<-", "launch<-resolve-source", "prov<-launch", "create-image<-prov",
			"finalize:us-east-1<-create-image", "copy:eu-west-1<-create-image",
			"finalize:eu-west-1<-copy:eu-west-1", "join<-finalize:us-east-1,finalize:eu-west-1", "pp<-join",
		}, false},
		"skip_create_ami, own key pair and group": {func(c *Config) {
			c.SkipCreateAMI, c.SSHKeyPairName, c.SSHPrivateKeyFile, c.SecurityGroupID = true, "k", "k.pem", "sg-1"
		}, []string{"resolve-source<-", "launch<-resolve-source", "connect<-launch", "prov<-connect", "pp<-prov"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			c := &Config{}
			c.Region, c.AMIRegions, c.Type, c.SSHUsername = "us-east-1", []string{"eu-west-1"}, "ssh", "ec2-user"
			tc.set(c)
			r := &recorder{stops: tc.stops}
			if err := (Builder{}).Plan(c, r); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.steps, tc.want) {
				t.Errorf("steps\n%q\nwant\n%q", r.steps, tc.want)
			}
		})
	}
}

// TestBuilderRefusesOtherConfigs checks that the builder does not run on
// another builder's configuration.
func TestBuilderRefusesOtherConfigs(t *testing.T) {
	type other struct{}
	want := "amazon-ebs builder: got a *ebs.other configuration, want *ebs.Config"
	if err := (Builder{}).Plan(&other{}, &recorder{}); err == nil || err.Error() != want {
		t.Errorf("Plan: %v", err)
	}
	if _, err := (Builder{}).Start(context.Background(), &builder.Env{}, &other{}); err == nil || err.Error() != want {
		t.Errorf("Start: %v", err)
	}
}

// TestPlanWithExistingImages: with images of the fingerprint in every
// region the plan is one step that takes them up; with some regions
// missing, copies from the build region (or, when the build region is
// the one missing, from another region) complete them, without an
// instance.
func TestPlanWithExistingImages(t *testing.T) {
	found := func(regions ...string) map[string]builder.Found {
		m := map[string]builder.Found{}
		for _, r := range regions {
			m[r] = builder.Found{}
		}
		return m
	}
	for name, tc := range map[string]struct {
		existing map[string]builder.Found
		want     []string
	}{
		"up to date": {found("us-east-1", "eu-west-1", "ap-southeast-2"), []string{"reuse<-", "pp<-reuse"}},
		"a copy missing": {found("us-east-1", "ap-southeast-2"), []string{
			"reuse<-", "copy:eu-west-1<-reuse", "finalize:eu-west-1<-copy:eu-west-1", "join<-finalize:eu-west-1", "pp<-join",
		}},
		"the build region missing": {found("eu-west-1"), []string{
			"reuse<-", "copy:us-east-1<-reuse", "finalize:us-east-1<-copy:us-east-1",
			"copy:ap-southeast-2<-reuse", "finalize:ap-southeast-2<-copy:ap-southeast-2",
			"join<-finalize:us-east-1,finalize:ap-southeast-2", "pp<-join",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			c := &Config{}
			c.Region, c.AMIRegions, c.Type, c.SSHUsername = "us-east-1", []string{"eu-west-1", "ap-southeast-2"}, "ssh", "ec2-user"
			r := &recorder{existing: tc.existing}
			if err := (Builder{}).Plan(c, r); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.steps, tc.want) {
				t.Errorf("steps\n%q\nwant\n%q", r.steps, tc.want)
			}
		})
	}
}

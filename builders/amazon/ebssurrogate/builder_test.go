package ebssurrogate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/builders/amazon/steps"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/check"
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

// TestPlan checks the amazon-ebssurrogate pipeline: the image is
// registered from the volume snapshots after the stop, then copied and
// finalised like an amazon-ebs image.
func TestPlan(t *testing.T) {
	for name, tc := range map[string]struct {
		set  func(c *Config)
		want []string
	}{
		"default": {func(*Config) {}, []string{
			"resolve-source<-", "key-pair<-resolve-source", "security-group<-resolve-source",
			"launch<-resolve-source,key-pair,security-group", "connect<-launch", "prov<-connect", "stop<-prov",
			"snapshot-volumes<-stop", "register-image<-snapshot-volumes",
			"finalize:us-east-1<-register-image", "copy:eu-west-1<-register-image",
			"finalize:eu-west-1<-copy:eu-west-1", "join<-finalize:us-east-1,finalize:eu-west-1", "pp<-join",
		}},
		"disable_stop_instance, skip_save_build_region, communicator none": {func(c *Config) {
			c.DisableStopInstance, c.AMISkipBuildRegion, c.Type = true, true, "none"
		}, []string{
			"resolve-source<-", "launch<-resolve-source", "prov<-launch", "await-stop<-prov",
			"snapshot-volumes<-await-stop", "register-image<-snapshot-volumes", "copy:eu-west-1<-register-image",
			"finalize:eu-west-1<-copy:eu-west-1", "join<-finalize:eu-west-1", "pp<-join",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			c := valid()
			c.AMIRegions = []string{"eu-west-1"}
			tc.set(&c)
			r := &recorder{}
			if err := (Builder{}).Plan(&c, r); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.steps, tc.want) {
				t.Errorf("steps\n%q\nwant\n%q", r.steps, tc.want)
			}
		})
	}
}

// TestStepsConfig checks what the shared steps get: the launch mappings
// without omit_from_artifact, the register settings, and no image
// attributes that amazon-ebs would check against the source or set on
// the instance.
func TestStepsConfig(t *testing.T) {
	c := valid()
	c.LaunchMappings = append(c.LaunchMappings, BlockDevice{BlockDevice: amazon.BlockDevice{DeviceName: "/dev/xvdg", VolumeSize: 2}, OmitFromArtifact: true})
	c.AMIENASupport, c.AMISriovNetSupport, c.TPMSupport, c.BootMode = new(true), true, "v2.0", "uefi"
	c.RootDevice.DeleteOnTermination, c.RootDevice.VolumeSize = true, 16
	c.Prepare(&check.Context{})
	s := c.steps()
	if s.BuilderType != Type || len(s.LaunchBlockDevices) != 2 || s.LaunchBlockDevices[1].DeviceName != "/dev/xvdg" {
		t.Errorf("shared config: %s, launch %+v", s.BuilderType, s.LaunchBlockDevices)
	}
	if s.AMIVirtType != "" || s.AMIENASupport != nil || s.AMISriovNetSupport {
		t.Errorf("image attributes left to the shared steps: %q %v %v", s.AMIVirtType, s.AMIENASupport, s.AMISriovNetSupport)
	}
	r := s.Register
	want := steps.RootDevice{SourceDeviceName: "/dev/xvdf", DeviceName: "/dev/xvda", DeleteOnTermination: true, VolumeSize: 16}
	if r == nil || r.Root != want || !slices.Equal(r.Omit, []string{"/dev/xvdg"}) || r.VirtualizationType != "hvm" ||
		r.Architecture != "x86_64" || r.BootMode != "uefi" || r.TPMSupport != "v2.0" || r.ENASupport == nil || !*r.ENASupport || !r.SriovNetSupport {
		t.Errorf("register settings %+v", r)
	}
}

// TestBuilderRefusesOtherConfigs checks that the builder does not run on
// another builder's configuration.
func TestBuilderRefusesOtherConfigs(t *testing.T) {
	type other struct{}
	want := "amazon-ebssurrogate builder: got a *ebssurrogate.other configuration, want *ebssurrogate.Config"
	if err := (Builder{}).Plan(&other{}, &recorder{}); err == nil || err.Error() != want {
		t.Errorf("Plan: %v", err)
	}
	if _, err := (Builder{}).Start(context.Background(), &builder.Env{}, &other{}); err == nil || err.Error() != want {
		t.Errorf("Start: %v", err)
	}
}

package steps

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/internal/builder"
	"github.com/imgbuild/imgbuild/internal/communicator"
)

// The kinds of the shared steps; Node gives each its node.
const (
	ResolveSource builder.StepKind = "resolve-source"
	KeyPair       builder.StepKind = "key-pair"
	SecurityGroup builder.StepKind = "security-group"
	Launch        builder.StepKind = "launch"
	Password      builder.StepKind = "password" // the Windows Administrator password
	Connect       builder.StepKind = "connect"
	Stop          builder.StepKind = "stop"
	AwaitStop     builder.StepKind = "await-stop" // the guest stops itself (sysprep)
	CreateImage   builder.StepKind = "create-image"
	CopyImage     builder.StepKind = "copy"
	Finalize      builder.StepKind = "finalize" // tag, share, deprecate, protect in one region
	Join          builder.StepKind = "join"
)

// The kinds of the steps that make an image from snapshots of the
// instance's launch volumes instead of CreateImage (amazon-ebssurrogate).
const (
	SnapshotVolumes builder.StepKind = "snapshot-volumes"
	RegisterImage   builder.StepKind = "register-image"
)

// PlanLaunch adds the steps up to a running, reachable instance: resolve
// the source, create access (key pair and security group, in parallel,
// after the source: their tags may use {{ .SourceAMIName }}), launch, and
// connect unless the communicator is "none". It returns the last step.
// The checks, when given, run after the source is resolved and before
// anything is created: every creating step waits for them.
func PlanLaunch(p builder.Planner, src *amazon.SourceConfig, checks ...*builder.Step) *builder.Step {
	resolve := p.Add(&builder.Step{ID: string(ResolveSource), Kind: ResolveSource, Region: src.Region, Label: describeSource(src)})
	ready := []*builder.Step{resolve}
	for _, c := range checks {
		ready = append(ready, p.Add(c, resolve))
	}
	launchAfter := ready
	if NeedsTemporaryKeyPair(src) {
		launchAfter = append(launchAfter, p.Add(&builder.Step{ID: string(KeyPair), Kind: KeyPair, Region: src.Region,
			Label: "create temporary key pair (" + src.TemporaryKeyPairType + ")", Cleanup: "delete temporary key pair"}, ready...))
	}
	if NeedsTemporarySecurityGroup(src) {
		launchAfter = append(launchAfter, p.Add(&builder.Step{ID: string(SecurityGroup), Kind: SecurityGroup, Region: src.Region,
			Label: "create temporary security group", Cleanup: "delete temporary security group"}, ready...))
	}
	launch := &builder.Step{ID: string(Launch), Kind: Launch, Region: src.Region,
		Label: "launch " + src.InstanceType + " instance and wait until running", Cleanup: "terminate instance and wait until terminated"}
	if src.IsSpotInstance() {
		types := src.SpotInstanceTypes
		if src.InstanceType != "" {
			types = []string{src.InstanceType}
		}
		launch.Label = "launch spot instance (" + strings.Join(types, ", ") +
			") through a launch template and an instant EC2 fleet, and wait until running"
		launch.Cleanup = "terminate instance and wait until terminated, delete the fleet and the launch template"
	}
	last := p.Add(launch, launchAfter...)
	if NeedsPassword(src) {
		last = p.Add(&builder.Step{ID: string(Password), Kind: Password, Region: src.Region,
			Label: "wait for the Windows Administrator password"}, last)
	}
	if src.Type != communicator.None {
		last = p.Add(&builder.Step{ID: string(Connect), Kind: Connect, Label: "connect over " + commName(src.Type)}, last)
	}
	return last
}

// PlanStop adds the step that stops the instance after last, and returns
// it. When the guest stops itself (disable_stop_instance, or a last
// provisioner such as sysprep that shuts Windows down) the step only waits
// for it: StopInstances is never called.
func PlanStop(p builder.Planner, src *amazon.SourceConfig, last *builder.Step) *builder.Step {
	if src.DisableStopInstance || last.StopsInstance {
		label := "wait for the instance to stop itself"
		if last.StopsInstance {
			label += " (" + last.Label + ")"
		}
		return p.Add(&builder.Step{ID: string(AwaitStop), Kind: AwaitStop, Region: src.Region, Label: label}, last)
	}
	if src.IsSpotInstance() {
		// As in Packer: EC2 cannot stop a one-time spot instance, so the
		// image is made from the running instance.
		return p.Add(&builder.Step{ID: string(Stop), Kind: Stop, Region: src.Region,
			Label: "leave the spot instance running (EC2 cannot stop a one-time spot instance)"}, last)
	}
	return p.Add(&builder.Step{ID: string(Stop), Kind: Stop, Region: src.Region, Label: "stop instance"}, last)
}

// PlanCreateImage adds the step that creates an image from the instance's
// volumes in the build region after last, and returns it.
func PlanCreateImage(p builder.Planner, src *amazon.SourceConfig, last *builder.Step) *builder.Step {
	return p.Add(&builder.Step{ID: string(CreateImage), Kind: CreateImage, Region: src.Region, ImageIn: src.Region,
		Label:   fmt.Sprintf("create image %q in %s and wait until available", src.AMIName, src.Region),
		Cleanup: "deregister image and delete its snapshots if the build did not succeed", CleanupOnFailure: true}, last)
}

// PlanRegisterImage adds, after last (the stopped instance), the steps
// that snapshot the instance's launch volumes and register an image from
// the snapshots in the build region (Config.Register), and returns the
// second.
func PlanRegisterImage(p builder.Planner, src *amazon.SourceConfig, last *builder.Step) *builder.Step {
	snaps := p.Add(&builder.Step{ID: string(SnapshotVolumes), Kind: SnapshotVolumes, Region: src.Region,
		Label:   "snapshot the launch volumes and wait until completed",
		Cleanup: "delete the snapshots if the build did not succeed", CleanupOnFailure: true}, last)
	return p.Add(&builder.Step{ID: string(RegisterImage), Kind: RegisterImage, Region: src.Region, ImageIn: src.Region,
		Label:   fmt.Sprintf("register image %q from the snapshots in %s and wait until available", src.AMIName, src.Region),
		Cleanup: "deregister image and delete its snapshots if the build did not succeed", CleanupOnFailure: true}, snaps)
}

// PlanRegions adds, after the step that made the image in the build
// region, one copy step per target region and one finalise step per
// region that keeps the image, then a join, which it returns.
func PlanRegions(p builder.Planner, src *amazon.SourceConfig, image *builder.Step) *builder.Step {
	var finals []*builder.Step
	if !src.AMISkipBuildRegion {
		finals = append(finals, p.Add(&builder.Step{ID: string(Finalize) + ":" + src.Region, Kind: Finalize, Region: src.Region,
			Label: "tag, share, deprecate and protect the image in " + src.Region}, image))
	}
	for _, r := range TargetRegions(src) {
		cp := p.Add(&builder.Step{ID: string(CopyImage) + ":" + r, Kind: CopyImage, Region: r, ImageIn: r,
			Label:   "copy image to " + r + " and wait until available",
			Cleanup: "deregister the copy in " + r + " and delete its snapshots if the build did not succeed", CleanupOnFailure: true}, image)
		finals = append(finals, p.Add(&builder.Step{ID: string(Finalize) + ":" + r, Kind: Finalize, Region: r,
			Label: "tag, share, deprecate and protect the image in " + r}, cp))
	}
	return p.Add(&builder.Step{ID: string(Join), Kind: Join, Label: "image ready in every region"}, finals...)
}

// TargetRegions returns the regions an image is copied to: ami_regions
// without duplicates and without the build region.
func TargetRegions(src *amazon.SourceConfig) []string {
	seen := map[string]bool{src.Region: true}
	var out []string
	for _, r := range src.AMIRegions {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// NeedsTemporaryKeyPair reports whether the build creates its own key pair.
func NeedsTemporaryKeyPair(src *amazon.SourceConfig) bool {
	switch {
	case src.Type == communicator.None:
		return false
	case src.Type == communicator.WinRM:
		return src.WinRMPassword == ""
	}
	return src.SSHKeyPairName == "" && src.SSHPrivateKeyFile == "" && src.SSHPassword == "" && !src.SSHAgentAuth
}

// NeedsPassword reports whether the build reads the Windows Administrator
// password from EC2: WinRM without winrm_password.
func NeedsPassword(src *amazon.SourceConfig) bool {
	return src.Type == communicator.WinRM && src.WinRMPassword == ""
}

// NeedsTemporarySecurityGroup reports whether the build creates its own
// security group.
func NeedsTemporarySecurityGroup(src *amazon.SourceConfig) bool {
	return src.NeedsTemporarySecurityGroup()
}

func describeSource(src *amazon.SourceConfig) string {
	if src.SourceAMI != "" {
		return "resolve source image " + src.SourceAMI
	}
	if src.SourceBuild != "" {
		return "take the image of build " + strconv.Quote(src.SourceBuild) + " in " + src.Region
	}
	return "find source image by filter"
}

func commName(t string) string {
	if t == communicator.WinRM {
		return "WinRM"
	}
	return "SSH"
}

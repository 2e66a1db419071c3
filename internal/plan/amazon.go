package plan

import (
	"fmt"
	"strconv"

	"github.com/imgbuild/imgbuild/builders/amazon"
	"github.com/imgbuild/imgbuild/builders/amazon/ebs"
	"github.com/imgbuild/imgbuild/internal/communicator"
)

// planBuild fills in the steps of one build according to its builder.
func planBuild(bp *BuildPlan) error {
	switch cfg := bp.Use.Config.(type) {
	case *ebs.Config:
		planEBS(bp, cfg)
		return nil
	default:
		return fmt.Errorf("builder %s cannot be planned yet", bp.Use.Type())
	}
}

// planEBS is the amazon-ebs pipeline: resolve the source, create access
// (key pair and security group, in parallel, after the source: their tags
// may use {{ .SourceAMIName }}), launch, connect, provision
// in order, stop, create the image, then copy and finalise every region in
// parallel, join, and post-process.
func planEBS(bp *BuildPlan, c *ebs.Config) {
	src := &c.SourceConfig
	launchDeps := []string{string(ResolveSource)}
	bp.add(&Step{ID: string(ResolveSource), Kind: ResolveSource, Region: src.Region, Label: describeSource(src)})
	if NeedsTemporaryKeyPair(src) {
		bp.add(&Step{ID: string(KeyPair), Kind: KeyPair, Region: src.Region, Deps: []string{string(ResolveSource)},
			Label: "create temporary key pair (" + src.TemporaryKeyPairType + ")", Cleanup: "delete temporary key pair"})
		launchDeps = append(launchDeps, string(KeyPair))
	}
	if NeedsTemporarySecurityGroup(src) {
		bp.add(&Step{ID: string(SecurityGroup), Kind: SecurityGroup, Region: src.Region, Deps: []string{string(ResolveSource)},
			Label: "create temporary security group", Cleanup: "delete temporary security group"})
		launchDeps = append(launchDeps, string(SecurityGroup))
	}
	last := bp.add(&Step{ID: string(Launch), Kind: Launch, Region: src.Region, Deps: launchDeps,
		Label: "launch " + src.InstanceType + " instance and wait until running", Cleanup: "terminate instance and wait until terminated"})
	if src.Type != communicator.None {
		last = bp.add(&Step{ID: string(Connect), Kind: Connect, Deps: []string{shortID(bp, last.ID)},
			Label: "connect over " + commName(src.Type)})
	}
	last = planProvisioners(bp, last)
	if c.SkipCreateAMI {
		planPostProcessors(bp, last)
		return
	}
	if !c.NoReboot {
		label := "stop instance"
		if src.DisableStopInstance {
			label = "wait for the instance to stop itself"
		}
		last = bp.add(&Step{ID: string(Stop), Kind: Stop, Region: src.Region, Deps: []string{shortID(bp, last.ID)}, Label: label})
	}
	create := bp.add(&Step{ID: string(CreateImage), Kind: CreateImage, Region: src.Region, Deps: []string{shortID(bp, last.ID)},
		Label:   fmt.Sprintf("create image %q in %s and wait until available", src.AMIName, src.Region),
		Cleanup: "deregister image and delete its snapshots if the build did not succeed", CleanupOnFailure: true})
	planRegions(bp, src, shortID(bp, create.ID))
}

// planRegions adds one copy step per target region and one finalise step
// per region that keeps the image, then a join.
func planRegions(bp *BuildPlan, src *amazon.SourceConfig, create string) {
	var finals []string
	if !src.AMISkipBuildRegion {
		s := bp.add(&Step{ID: string(Finalize) + ":" + src.Region, Kind: Finalize, Region: src.Region, Deps: []string{create},
			Label: "tag, share, deprecate and protect the image in " + src.Region})
		finals = append(finals, shortID(bp, s.ID))
	}
	for _, r := range TargetRegions(src) {
		cp := bp.add(&Step{ID: string(CopyImage) + ":" + r, Kind: CopyImage, Region: r, Deps: []string{create},
			Label:   "copy image to " + r + " and wait until available",
			Cleanup: "deregister the copy in " + r + " and delete its snapshots if the build did not succeed", CleanupOnFailure: true})
		s := bp.add(&Step{ID: string(Finalize) + ":" + r, Kind: Finalize, Region: r, Deps: []string{shortID(bp, cp.ID)},
			Label: "tag, share, deprecate and protect the image in " + r})
		finals = append(finals, shortID(bp, s.ID))
	}
	join := bp.add(&Step{ID: string(Join), Kind: Join, Deps: finals, Label: "image ready in every region"})
	planPostProcessors(bp, join)
}

func planProvisioners(bp *BuildPlan, last *Step) *Step {
	use := bp.Use.UseName()
	for i, p := range bp.Build.Provisioners {
		if !p.AppliesTo(use) {
			continue
		}
		label := "provisioner " + p.Type
		if p.Name != "" {
			label += " " + strconv.Quote(p.Name)
		}
		last = bp.add(&Step{ID: fmt.Sprintf("%s:%d", Provision, i+1), Kind: Provision, Deps: []string{shortID(bp, last.ID)},
			Label: label, Provisioner: p})
	}
	return last
}

func planPostProcessors(bp *BuildPlan, last *Step) {
	use := bp.Use.UseName()
	for ci, chain := range bp.Build.PostProcessors {
		prev := last
		for i, pp := range chain {
			if !pp.AppliesTo(use) {
				continue
			}
			prev = bp.add(&Step{ID: fmt.Sprintf("%s:%d.%d", PostProcess, ci+1, i+1), Kind: PostProcess,
				Deps: []string{shortID(bp, prev.ID)}, Label: "post-processor " + pp.Type, PostProcessor: pp})
		}
	}
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

// NeedsTemporarySecurityGroup reports whether the build creates its own
// security group.
func NeedsTemporarySecurityGroup(src *amazon.SourceConfig) bool {
	return src.Type != communicator.None && src.SecurityGroupID == "" && len(src.SecurityGroupIDs) == 0 &&
		len(src.SecurityGroupFilter.Filters) == 0
}

func describeSource(src *amazon.SourceConfig) string {
	if src.SourceAMI != "" {
		return "resolve source image " + src.SourceAMI
	}
	return "find source image by filter"
}

func commName(t string) string {
	if t == communicator.WinRM {
		return "WinRM"
	}
	return "SSH"
}

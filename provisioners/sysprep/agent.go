package sysprep

import (
	"fmt"
	"regexp"
	"strings"
)

// Agent is an AWS launch agent: the program that runs Sysprep on the build
// instance and configures instances launched from the image at their first
// boot. Its value is the one the agent attribute takes.
type Agent string

// The launch agents.
const (
	EC2LaunchV2 Agent = "ec2launch-v2" // EC2Launch.exe, a service: Windows Server 2022, 2025 and EC2LaunchV2-* images
	EC2LaunchV1 Agent = "ec2launch-v1" // PowerShell scripts: Windows Server 2016, 2019
	EC2Config   Agent = "ec2config"    // Ec2Config.exe, a service: Windows Server 2012 R2 and earlier
)

// Agents lists every agent, in the order messages name them.
var Agents = []Agent{EC2LaunchV2, EC2LaunchV1, EC2Config}

// DisplayName is the agent's name as AWS writes it, e.g. "EC2Launch v2".
func (a Agent) DisplayName() string {
	switch a {
	case EC2LaunchV2:
		return "EC2Launch v2"
	case EC2LaunchV1:
		return "EC2Launch v1"
	case EC2Config:
		return "EC2Config"
	}
	return string(a)
}

// SysprepCommand is the agent's documented PowerShell command that runs
// Sysprep and shuts Windows down when it is done. EC2Launch v2's --clean
// also deletes the agent's instance logs first.
func (a Agent) SysprepCommand() string {
	switch a {
	case EC2LaunchV2:
		return `& "$env:ProgramFiles\Amazon\EC2Launch\ec2launch.exe" sysprep --shutdown --clean`
	case EC2LaunchV1:
		return `& "$env:ProgramData\Amazon\EC2-Windows\Launch\Scripts\SysprepInstance.ps1"`
	case EC2Config:
		return `& "$env:ProgramFiles\Amazon\Ec2ConfigService\ec2config.exe" -sysprep`
	}
	return ""
}

// agentByVersion is the agent AWS installs on its images of each Windows
// Server version, keyed by normalized version.
var agentByVersion = map[string]Agent{
	"2008": EC2Config, "2008 R2": EC2Config, "2012": EC2Config, "2012 R2": EC2Config,
	"2016": EC2LaunchV1, "2019": EC2LaunchV1,
	"2022": EC2LaunchV2, "2025": EC2LaunchV2,
}

// Versions are the Windows Server versions windows_version accepts, in
// normalized form.
var Versions = []string{"2008", "2008 R2", "2012", "2012 R2", "2016", "2019", "2022", "2025"}

// imageVersionRE finds the Windows Server version in an image name such as
// Windows_Server-2012-R2_RTM-English-64Bit-Base-2023.08.10 or
// TPM-Windows_Server-2022-English-Full-Base-2024.01.10: the first
// "Windows_Server-<year>", optionally followed by R2, and then not by
// another letter or digit.
var imageVersionRE = regexp.MustCompile(`(?i)windows[ _-]?server[ _-]?(2008|2012|2016|2019|2022|2025)(?:[ _-]?(r2))?(?:[^0-9a-z]|$)`)

// imageVersion returns the normalized Windows Server version an image name
// shows, or "" when it shows none.
func imageVersion(name string) string {
	m := imageVersionRE.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	if m[2] != "" {
		return m[1] + " R2"
	}
	return m[1]
}

// isEC2LaunchV2Image reports whether the name is one of AWS's images of
// Windows Server 2016 and 2019 with EC2Launch v2 instead of v1
// (EC2LaunchV2-Windows_Server-2019-English-Full-Base-...).
func isEC2LaunchV2Image(name string) bool {
	return strings.Contains(strings.ToLower(name), "ec2launchv2-")
}

// NormalizeVersion returns the normalized form of a Windows Server version
// written "2012 R2", "2012R2", "2012-r2" or "2019", and whether it is one
// of Versions.
func NormalizeVersion(s string) (string, bool) {
	compact := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "_", "").Replace(s))
	v := strings.Replace(compact, "R2", " R2", 1)
	_, ok := agentByVersion[v]
	return v, ok
}

// AgentFor returns the launch agent of a source image from its name and,
// when not empty, the Windows Server version the user gave
// (windows_version), which overrides the version the name shows:
// EC2LaunchV2-* images have EC2Launch v2 whatever their version; Windows
// Server 2025 and 2022 have EC2Launch v2, 2019 and 2016 EC2Launch v1,
// 2012 R2, 2012, 2008 R2 and 2008 EC2Config. It fails when neither tells
// the version.
func AgentFor(imageName, version string) (Agent, error) {
	if isEC2LaunchV2Image(imageName) {
		return EC2LaunchV2, nil
	}
	if version != "" {
		v, ok := NormalizeVersion(version)
		if !ok {
			return "", fmt.Errorf("windows_version %q is not one of %s", version, strings.Join(Versions, ", "))
		}
		return agentByVersion[v], nil
	}
	if v := imageVersion(imageName); v != "" {
		return agentByVersion[v], nil
	}
	return "", fmt.Errorf("cannot tell the launch agent of source image %q: its name shows no Windows Server version "+
		"(such as Windows_Server-2022-...); set agent (%s) or windows_version in the sysprep provisioner",
		imageName, agentList())
}

// agentList is the agents quoted and joined for messages.
func agentList() string {
	q := make([]string, len(Agents))
	for i, a := range Agents {
		q[i] = fmt.Sprintf("%q", string(a))
	}
	return strings.Join(q, ", ")
}

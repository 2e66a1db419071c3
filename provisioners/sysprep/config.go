package sysprep

import (
	"slices"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// The values of admin_password.
const (
	PasswordRandom = "random"
	PasswordKeep   = "keep"
)

// Config is the configuration of a provisioner "sysprep" block.
type Config struct {
	// Agent is the launch agent that runs Sysprep and configures the
	// instances launched from the image: "ec2launch-v2", "ec2launch-v1" or
	// "ec2config". Default: the agent AWS installs on the source image,
	// told by its name: EC2LaunchV2-* images and Windows Server 2025 and
	// 2022 have EC2Launch v2, 2019 and 2016 EC2Launch v1, 2012 R2 and
	// earlier EC2Config. A name that tells nothing (an image of your own)
	// fails the provisioner unless agent or windows_version is set.
	Agent string `hcl:"agent"`
	// WindowsVersion is the source image's Windows Server version:
	// "2012", "2012 R2" (or "2012R2"), "2016", "2019", "2022" or "2025"
	// ("2008" and "2008 R2" work too). It chooses the agent, as above,
	// instead of the version the image's name shows; it has no effect with
	// agent, or on an EC2LaunchV2-* image.
	WindowsVersion string `hcl:"windows_version"`
	// AdminPassword is the Administrator password of the instances
	// launched from the image. "random" (default): the agent sets a new
	// random password at each instance's first boot, which GetPasswordData
	// returns, encrypted with the instance's key pair. "keep": the
	// password the build connected with stays: EC2Launch v2 and v1 set it
	// again after Sysprep (setAdminAccount type static, adminPasswordType
	// Specify; the build must connect as Administrator with a known
	// password: winrm_password or the one GetPasswordData returned; the
	// agent keeps it in its configuration file in clear text until it has
	// set it), and for EC2Config the answer file's command that scrambles
	// the password is neutralized.
	AdminPassword string `hcl:"admin_password"`
	// ComputerName makes the agent set the computer name at each
	// instance's boot, from its private IPv4 address (such as
	// ip-AC1F4E6A), restarting once to apply it: EC2Launch v2's
	// setHostName task, EC2Launch v1's setComputerName, EC2Config's
	// Ec2SetComputerName plugin. Default: false, the random name Windows
	// gives itself after Sysprep stays.
	ComputerName bool `hcl:"computer_name"`
	// RunUserData makes instances launched from the image run their user
	// data at their first boot: EC2Launch v1's handleUserData, EC2Config's
	// Ec2HandleUserData plugin, which the agents turn off once they have
	// run user data. EC2Launch v2 always runs it (ec2launch sysprep resets
	// the agent), so false has no effect there. Default: true.
	RunUserData *bool `hcl:"run_user_data"`
	// CleanTemp empties the temporary folders (%TEMP% and
	// C:\Windows\Temp, where imgbuild uploads its scripts) before Sysprep;
	// files in use stay. Default: true.
	CleanTemp *bool `hcl:"clean_temp"`
	// ZeroFreeSpace writes zeros over the free space of the system drive,
	// leaving 512 MiB, then deletes the file, so an export or bundle of the
	// image compresses better. On EBS it only costs time: every free block
	// is written, minutes for tens of GiB. Default: false.
	ZeroFreeSpace bool `hcl:"zero_free_space"`
}

// StopsInstance reports that the provisioner leaves the instance shutting
// itself down: Sysprep turns Windows off when it is done. The template
// loader refuses a provisioner after it, and the builder waits for the
// instance to stop instead of stopping it.
func (Config) StopsInstance() bool { return true }

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.Agent = strings.ToLower(c.Agent)
	c.AdminPassword = strings.ToLower(c.AdminPassword)
	if c.AdminPassword == "" {
		c.AdminPassword = PasswordRandom
	}
	setBool(&c.RunUserData, true)
	setBool(&c.CleanTemp, true)

	agents := make([]string, len(Agents))
	for i, a := range Agents {
		agents[i] = string(a)
	}
	ctx.Enum(check.Path("agent"), c.Agent, agents...)
	ctx.Enum(check.Path("admin_password"), c.AdminPassword, PasswordRandom, PasswordKeep)
	c.prepareVersion(ctx)
	if c.Agent == string(EC2LaunchV2) && !*c.RunUserData {
		ctx.Warnf(check.Path("run_user_data"), "run_user_data = false has no effect with EC2Launch v2",
			"EC2Launch v2 runs the user data of every instance launched from the image at its first boot: "+
				"ec2launch sysprep resets the agent. Only EC2Launch v1 and EC2Config can turn it off.")
	}
}

// prepareVersion normalizes and checks windows_version.
func (c *Config) prepareVersion(ctx *check.Context) {
	if c.WindowsVersion == "" {
		return
	}
	v, ok := NormalizeVersion(c.WindowsVersion)
	if !ok {
		ctx.Errorf(check.Path("windows_version"), "Invalid value for windows_version",
			"%q is not a Windows Server version: use one of %q (\"2012R2\" works too).", c.WindowsVersion, Versions)
		return
	}
	c.WindowsVersion = v
	if c.Agent != "" && slices.Contains(Agents, Agent(c.Agent)) {
		ctx.Warnf(check.Path("windows_version"), "windows_version has no effect with agent",
			"windows_version only chooses the launch agent when agent is not set; agent = %q is used.", c.Agent)
	}
}

// runUserData and cleanTemp are the defaults-true options, true when
// Prepare has not run.
func (c *Config) runUserData() bool { return c.RunUserData == nil || *c.RunUserData }
func (c *Config) cleanTemp() bool   { return c.CleanTemp == nil || *c.CleanTemp }

func setBool(p **bool, def bool) {
	if *p == nil {
		*p = &def
	}
}

// KeepProblem says why admin_password = "keep" would stop the build once
// Sysprep is about to run, for a build that connects as user (with a
// password when hasPassword), so the template loader can refuse it first:
// EC2Launch v1 and v2 set the Administrator password again after Sysprep,
// and only the build's own Administrator password can be set. It returns
// "" when keep works or is not asked for. sure is false when the launch
// agent, which decides it, comes from the source image's name (known only
// at build): the problem then holds unless the image has EC2Config.
func (c *Config) KeepProblem(user string, hasPassword bool) (problem string, sure bool) {
	if c.AdminPassword != PasswordKeep {
		return "", true
	}
	agent, sure := c.configuredAgent()
	if sure && agent == EC2Config {
		return "", true
	}
	if !sure {
		agent = EC2LaunchV2
	}
	data := interpolate.Data{User: user}
	if hasPassword {
		data.Password = "set"
	}
	if _, err := c.plan(agent, data); err != nil {
		return err.Error(), sure
	}
	return "", sure
}

// configuredAgent returns the launch agent the configuration decides
// whatever the source image: agent, or a windows_version whose agent is
// EC2Launch v1 or v2 (an EC2LaunchV2-* image has v2 too, still not
// EC2Config). ok is false when only the image's name can tell.
func (c *Config) configuredAgent() (agent Agent, ok bool) {
	if c.Agent != "" {
		return Agent(c.Agent), true
	}
	if v, known := NormalizeVersion(c.WindowsVersion); known && agentByVersion[v] != EC2Config {
		return agentByVersion[v], true
	}
	return "", false
}

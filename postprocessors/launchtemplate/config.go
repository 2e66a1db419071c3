// Package launchtemplate is the amazon-launch-template post-processor: in
// every region of an artifact it adds a version to an existing launch
// template that launches the region's image, with the build's boot
// payload as user data, and can make it the default version.
package launchtemplate

import (
	"regexp"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/postprocessors/internal/regional"
)

// Config is the configuration of a post-processor "amazon-launch-template"
// block. The launch template must exist in every region of the artifact:
// the post-processor adds versions, it does not create templates.
type Config struct {
	regional.Access

	// LaunchTemplateName is the name of the launch template, the same in
	// every region. One of launch_template_name and launch_template_id is
	// required.
	LaunchTemplateName string `hcl:"launch_template_name"`
	// LaunchTemplateID is the ID of the launch template (lt-...). An ID
	// names a template in one region, so it suits artifacts of one region;
	// use launch_template_name for several.
	LaunchTemplateID string `hcl:"launch_template_id"`
	// SetDefault makes the version that launches the image the template's
	// default version. Default: false.
	SetDefault bool `hcl:"set_default"`
	// VersionDescription is the description of the versions created.
	VersionDescription string `hcl:"version_description"`
}

var (
	templateNameRE = regexp.MustCompile(`^[a-zA-Z0-9()./_-]{3,128}$`)
	templateIDRE   = regexp.MustCompile(`^lt-[0-9a-f]{8,17}$`)
)

// Prepare checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.Access.Prepare(ctx)
	name := ctx.Set(c.LaunchTemplateName != "", "launch_template_name")
	id := ctx.Set(c.LaunchTemplateID != "", "launch_template_id")
	switch {
	case name && id:
		ctx.Errorf(check.Path("launch_template_id"), "Conflicting arguments", "set launch_template_name or launch_template_id, not both.")
	case !name && !id:
		ctx.Errorf(nil, "Missing required argument", "one of launch_template_name and launch_template_id is required.")
	}
	if c.LaunchTemplateName != "" && !templateNameRE.MatchString(c.LaunchTemplateName) {
		ctx.Errorf(check.Path("launch_template_name"), "Invalid launch template name",
			"%q is not a launch template name: 3 to 128 letters, digits and ( ) . / _ -", c.LaunchTemplateName)
	}
	if c.LaunchTemplateID != "" && !templateIDRE.MatchString(c.LaunchTemplateID) {
		ctx.Errorf(check.Path("launch_template_id"), "Invalid launch template ID", "%q is not a launch template ID such as lt-0123456789abcdef0", c.LaunchTemplateID)
	}
	if len(c.VersionDescription) > 255 {
		ctx.Errorf(check.Path("version_description"), "Invalid version description", "version_description is %d characters long; at most 255", len(c.VersionDescription))
	}
}

// template names the launch template in lines and errors.
func (c *Config) template() string {
	if c.LaunchTemplateName != "" {
		return c.LaunchTemplateName
	}
	return c.LaunchTemplateID
}

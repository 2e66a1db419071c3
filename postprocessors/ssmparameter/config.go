// Package ssmparameter is the amazon-ssm-parameter post-processor: it
// publishes the image ID of every region of an artifact as an SSM
// parameter of data type aws:ec2:image in that region, and optionally the
// build's boot payload as a second parameter, so launches look them up by
// name.
package ssmparameter

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/postprocessors/internal/regional"
)

// Config is the configuration of a post-processor "amazon-ssm-parameter"
// block.
type Config struct {
	regional.Access

	// Name is the name of the parameter that holds the image ID, in every
	// region of the artifact, e.g. "/images/app/latest". A hierarchical
	// name starts with "/". Required.
	Name string `hcl:"name" required:"true"`
	// Description is the parameter's description, written with its value.
	Description string `hcl:"description"`
	// Tags are the tags of the parameters; added when missing or
	// different, never removed.
	Tags map[string]string `hcl:"tags"`
	// BootPayloadName is the name of a second parameter that holds the
	// content of the build's boot payload (user data for the layers the
	// strategy did not bake), a String of data type text in the Advanced
	// tier when over 4 KB (else Intelligent-Tiering: Standard for a new
	// parameter); a payload over 8 KB, or not UTF-8 text (gzip), is an
	// error. Nothing is written when the build has no boot payload.
	// Default: none.
	BootPayloadName string `hcl:"boot_payload_name"`
}

// Prepare fills defaults and checks the configuration offline.
func (c *Config) Prepare(ctx *check.Context) {
	c.Access.Prepare(ctx)
	if c.Name != "" {
		ctx.Check(check.Path("name"), "Invalid parameter name", ParameterName(c.Name))
	}
	if c.BootPayloadName != "" {
		ctx.Check(check.Path("boot_payload_name"), "Invalid parameter name", ParameterName(c.BootPayloadName))
		if c.BootPayloadName == c.Name {
			ctx.Errorf(check.Path("boot_payload_name"), "Invalid parameter name", "boot_payload_name must differ from name (%q).", c.Name)
		}
	}
	if len(c.Tags) > 50 {
		ctx.Errorf(check.Path("tags"), "Too many tags", "an SSM parameter has at most 50 tags, got %d", len(c.Tags))
	}
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

// ParameterName checks an SSM parameter name: letters, digits and
// "_.-/", at most 1011 characters, a name with "/" starting with "/" and
// with at most 15 levels, no empty level, and no first level starting
// with "aws" or "ssm" (reserved by AWS).
func ParameterName(name string) error {
	switch {
	case len(name) > 1011:
		return fmt.Errorf("parameter name %.40q... is %d characters long; at most 1011", name, len(name))
	case !nameRE.MatchString(name):
		return fmt.Errorf("parameter name %q may only hold letters, digits and _ . - /", name)
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return fmt.Errorf("parameter name %q has a \"/\": a hierarchical name must start with \"/\"", name)
	case strings.Count(name, "/") > 15:
		return fmt.Errorf("parameter name %q has more than 15 levels", name)
	case strings.Contains(name, "//") || (strings.HasSuffix(name, "/") && name != "/") || name == "/":
		return fmt.Errorf("parameter name %q has an empty level", name)
	}
	first := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return fmt.Errorf("parameter name %q starts with \"aws\" or \"ssm\", which AWS reserves", name)
	}
	return nil
}

// CheckBootPayload checks, before the build, that the build's boot
// payload (compiled when the build is planned) can be the value of the
// boot_payload_name parameter, which the post-processor would otherwise
// refuse only after the image is made. Nothing is checked without
// boot_payload_name or without a payload.
func (c *Config) CheckBootPayload(payload []byte) error {
	if c.BootPayloadName == "" || len(payload) == 0 {
		return nil
	}
	if err := payloadFits("the boot payload", payload); err != nil {
		return fmt.Errorf("boot_payload_name %q: %w: defer fewer provisioners, or remove boot_payload_name", c.BootPayloadName, err)
	}
	return nil
}

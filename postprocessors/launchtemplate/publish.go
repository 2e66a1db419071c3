package launchtemplate

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/postprocessors/internal/regional"
)

var (
	_ artifact.PostProcessor = (*Config)(nil)
	_ artifact.Planner       = (*Config)(nil)
)

// templates reads and changes the versions of a launch template.
type templates interface {
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, opts ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
	ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, opts ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error)
}

// PostProcess adds a version launching the region's image to the launch
// template in every region of a where its latest version does not
// already, sets the default version when asked, prints one line per
// change and returns a unchanged.
func (c *Config) PostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) (*artifact.Artifact, error) {
	lines, err := c.run(ctx, env, a, true)
	regional.Print(env, "amazon-launch-template", lines)
	return a, err
}

// PlanPostProcess returns the changes PostProcess would make, changing
// nothing.
func (c *Config) PlanPostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) ([]string, error) {
	return c.run(ctx, env, a, false)
}

func (c *Config) run(ctx context.Context, env *artifact.Env, a *artifact.Artifact, apply bool) ([]string, error) {
	if len(a.Images) == 0 {
		return nil, nil
	}
	ud, err := userData(env, a)
	if err != nil {
		return nil, err
	}
	sess, err := c.Session(ctx, env, a)
	if err != nil {
		return nil, err
	}
	per, err := regional.Each(ctx, a, func(ctx context.Context, im artifact.Image) ([]string, error) {
		return c.publish(ctx, sess.EC2(im.Region), im, ud, apply)
	})
	return regional.Lines(per), err
}

// bootData is the user data the versions get.
type bootData struct {
	path    string
	b64     string // base64 of the payload
	size    int
	planned bool // not written yet (imgbuild plan)
}

// userData reads the artifact's boot payload; nil when it has none.
func userData(env *artifact.Env, a *artifact.Artifact) (*bootData, error) {
	if a.BootPayload == "" {
		return nil, nil
	}
	baseDir := ""
	if env != nil {
		baseDir = env.BaseDir
	}
	data, err := os.ReadFile(check.Resolve(baseDir, a.BootPayload))
	if errors.Is(err, os.ErrNotExist) && a.Planned {
		return &bootData{path: a.BootPayload, planned: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("boot payload: %w", err)
	}
	return &bootData{path: a.BootPayload, b64: base64.StdEncoding.EncodeToString(data), size: len(data)}, nil
}

// publish brings the launch template of one region to launching im.
func (c *Config) publish(ctx context.Context, cl templates, im artifact.Image, ud *bootData, apply bool) ([]string, error) {
	latest, def, err := c.versions(ctx, cl, im.Region)
	if err != nil {
		return nil, err
	}
	lt := fmt.Sprintf("launch template %s in %s", c.template(), im.Region)
	data := latest.LaunchTemplateData
	if data == nil {
		data = &types.ResponseLaunchTemplateData{}
	}
	same := im.ImageID != "" && aws.ToString(data.ImageId) == im.ImageID &&
		(ud == nil || (!ud.planned && aws.ToString(data.UserData) == ud.b64))
	if same {
		if !c.SetDefault || aws.ToInt64(def.VersionNumber) == aws.ToInt64(latest.VersionNumber) {
			return nil, nil
		}
		line := fmt.Sprintf("make version %d of %s the default (now %d)", aws.ToInt64(latest.VersionNumber), lt, aws.ToInt64(def.VersionNumber))
		if apply {
			if err := c.setDefault(ctx, cl, im.Region, aws.ToInt64(latest.VersionNumber)); err != nil {
				return nil, err
			}
		}
		return []string{line}, nil
	}
	line := fmt.Sprintf("create a version of %s from version %d: %s (now %s)", lt, aws.ToInt64(latest.VersionNumber),
		regional.ImageLabel(im), orNone(aws.ToString(data.ImageId)))
	if ud != nil {
		line += ", user data " + ud.path
		if !ud.planned {
			line += fmt.Sprintf(" (%d bytes)", ud.size)
		}
	}
	if c.SetDefault {
		line += ", made the default"
	}
	if !apply {
		return []string{line}, nil
	}
	n, err := c.createVersion(ctx, cl, im, ud, aws.ToInt64(latest.VersionNumber))
	if err != nil {
		return nil, fmt.Errorf("create a version of %s: %w", lt, err)
	}
	line = strings.Replace(line, "create a version", fmt.Sprintf("created version %d", n), 1)
	if c.SetDefault {
		if err := c.setDefault(ctx, cl, im.Region, n); err != nil {
			return []string{line}, err
		}
	}
	return []string{line}, nil
}

// createVersion adds a version made from version source that launches
// im with the boot payload, and returns its number.
func (c *Config) createVersion(ctx context.Context, cl templates, im artifact.Image, ud *bootData, source int64) (int64, error) {
	in := &ec2.CreateLaunchTemplateVersionInput{
		SourceVersion:      aws.String(strconv.FormatInt(source, 10)),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(im.ImageID)},
	}
	c.name(&in.LaunchTemplateName, &in.LaunchTemplateId)
	if ud != nil {
		in.LaunchTemplateData.UserData = aws.String(ud.b64)
	}
	if c.VersionDescription != "" {
		in.VersionDescription = aws.String(c.VersionDescription)
	}
	out, err := cl.CreateLaunchTemplateVersion(ctx, in)
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(out.LaunchTemplateVersion.VersionNumber), nil
}

// versions returns the template's latest and default versions in region.
func (c *Config) versions(ctx context.Context, cl templates, region string) (latest, def types.LaunchTemplateVersion, err error) {
	in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}}
	c.name(&in.LaunchTemplateName, &in.LaunchTemplateId)
	out, err := cl.DescribeLaunchTemplateVersions(ctx, in)
	if err != nil {
		if notFound(err) {
			return latest, def, fmt.Errorf("launch template %s not found in %s: create it there first (the post-processor adds versions only)", c.template(), region)
		}
		return latest, def, fmt.Errorf("read launch template %s in %s: %w", c.template(), region, err)
	}
	for _, v := range out.LaunchTemplateVersions {
		if aws.ToInt64(v.VersionNumber) > aws.ToInt64(latest.VersionNumber) {
			latest = v
		}
		if aws.ToBool(v.DefaultVersion) {
			def = v
		}
	}
	if latest.VersionNumber == nil {
		return latest, def, fmt.Errorf("launch template %s in %s has no versions", c.template(), region)
	}
	return latest, def, nil
}

// notFound reports whether err says the launch template does not exist
// (EC2 answers InvalidLaunchTemplateName.NotFoundException for a name,
// which awsapi knows).
func notFound(err error) bool { return awsapi.IsNotFound(err) }

func (c *Config) setDefault(ctx context.Context, cl templates, region string, version int64) error {
	in := &ec2.ModifyLaunchTemplateInput{DefaultVersion: aws.String(strconv.FormatInt(version, 10))}
	c.name(&in.LaunchTemplateName, &in.LaunchTemplateId)
	if _, err := cl.ModifyLaunchTemplate(ctx, in); err != nil {
		return fmt.Errorf("make version %d of launch template %s in %s the default: %w", version, c.template(), region, err)
	}
	return nil
}

// name sets the request's template name or ID.
func (c *Config) name(name, id **string) {
	if c.LaunchTemplateName != "" {
		*name = aws.String(c.LaunchTemplateName)
		return
	}
	*id = aws.String(c.LaunchTemplateID)
}

func orNone(s string) string {
	if s == "" {
		return "no image"
	}
	return s
}

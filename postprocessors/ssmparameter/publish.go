package ssmparameter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/imgbuild/imgbuild/internal/artifact"
	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/postprocessors/internal/regional"
)

var (
	_ artifact.PostProcessor = (*Config)(nil)
	_ artifact.Planner       = (*Config)(nil)
)

// The limits of a String parameter's value.
const (
	standardLimit = 4096 // bytes in the Standard tier
	advancedLimit = 8192 // bytes in the Advanced tier
)

// parameters reads and writes parameter values.
type parameters interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// tagger reads and adds the tags of a parameter.
type tagger interface {
	ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, opts ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	AddTagsToResource(ctx context.Context, in *ssm.AddTagsToResourceInput, opts ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
}

// client is what one region's publishing needs.
type client interface {
	parameters
	tagger
}

// PostProcess writes the parameters in every region of a where they
// differ, prints one line per write, and returns a unchanged.
func (c *Config) PostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) (*artifact.Artifact, error) {
	lines, err := c.run(ctx, env, a, true)
	regional.Print(env, "amazon-ssm-parameter", lines)
	return a, err
}

// PlanPostProcess returns the writes PostProcess would make, changing
// nothing.
func (c *Config) PlanPostProcess(ctx context.Context, env *artifact.Env, a *artifact.Artifact) ([]string, error) {
	return c.run(ctx, env, a, false)
}

func (c *Config) run(ctx context.Context, env *artifact.Env, a *artifact.Artifact, apply bool) ([]string, error) {
	if len(a.Images) == 0 {
		return nil, nil
	}
	payload, err := c.payload(env, a)
	if err != nil {
		return nil, err
	}
	sess, err := c.Session(ctx, env, a)
	if err != nil {
		return nil, err
	}
	per, err := regional.Each(ctx, a, func(ctx context.Context, im artifact.Image) ([]string, error) {
		return c.publish(ctx, sess.SSM(im.Region), im, payload, apply)
	})
	return regional.Lines(per), err
}

// wanted is one parameter as it should be.
type wanted struct {
	name, value string
	label       string // how lines show the value
	dataType    string
	tier        types.ParameterTier
	planned     bool // the value is not known yet (a planned image)
}

// publish brings the parameters of one region to what im (and the boot
// payload, when given) want; without apply it only says what it would do.
func (c *Config) publish(ctx context.Context, cl client, im artifact.Image, payload *bootPayload, apply bool) ([]string, error) {
	want := []wanted{{name: c.Name, value: im.ImageID, label: regional.ImageLabel(im), dataType: "aws:ec2:image", planned: im.ImageID == ""}}
	if payload != nil && c.BootPayloadName != "" {
		w := wanted{name: c.BootPayloadName, value: string(payload.data), dataType: "text", planned: payload.planned,
			label: fmt.Sprintf("boot payload %s (%d bytes)", payload.path, len(payload.data))}
		if payload.planned {
			w.label = fmt.Sprintf("boot payload %s", payload.path)
		}
		// Advanced when it must be; otherwise let SSM choose, which
		// keeps a parameter that is Advanced already (an explicit
		// Standard would fail on it: SSM cannot downgrade).
		w.tier = types.ParameterTierIntelligentTiering
		if len(payload.data) > standardLimit {
			w.tier = types.ParameterTierAdvanced
		}
		want = append(want, w)
	}
	var lines []string
	for _, w := range want {
		l, err := c.publishOne(ctx, cl, im.Region, w, apply)
		if err != nil {
			return lines, err
		}
		lines = append(lines, l...)
	}
	return lines, nil
}

func (c *Config) publishOne(ctx context.Context, cl client, region string, w wanted, apply bool) ([]string, error) {
	out, err := cl.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(w.name)})
	var cur *types.Parameter
	switch {
	case err == nil:
		cur = out.Parameter
	case !awsapi.IsNotFound(err):
		return nil, fmt.Errorf("read parameter %s in %s: %w", w.name, region, err)
	}
	var lines []string
	switch {
	case cur == nil:
		lines = append(lines, fmt.Sprintf("put parameter %s in %s: %s (new parameter)", w.name, region, w.label))
		if apply {
			in := c.put(w)
			in.Tags = ssmTags(c.Tags)
			if _, err := cl.PutParameter(ctx, in); err != nil {
				return nil, fmt.Errorf("put parameter %s in %s: %w", w.name, region, err)
			}
		}
		return lines, nil // created with its tags
	case w.planned || aws.ToString(cur.Value) != w.value || aws.ToString(cur.DataType) != w.dataType || cur.Type != types.ParameterTypeString:
		lines = append(lines, fmt.Sprintf("put parameter %s in %s: %s (now %s)", w.name, region, w.label, describe(cur, w)))
		if apply {
			in := c.put(w)
			in.Overwrite = aws.Bool(true)
			if _, err := cl.PutParameter(ctx, in); err != nil {
				return nil, fmt.Errorf("put parameter %s in %s: %w", w.name, region, err)
			}
		}
	}
	tagLines, err := c.tag(ctx, cl, region, w.name, apply)
	return append(lines, tagLines...), err
}

// put returns the PutParameterInput that writes w.
func (c *Config) put(w wanted) *ssm.PutParameterInput {
	in := &ssm.PutParameterInput{Name: aws.String(w.name), Value: aws.String(w.value), Type: types.ParameterTypeString,
		DataType: aws.String(w.dataType), Tier: w.tier}
	if c.Description != "" {
		in.Description = aws.String(c.Description)
	}
	return in
}

// describe says what the parameter holds now, in the terms of w.label.
func describe(cur *types.Parameter, w wanted) string {
	v := aws.ToString(cur.Value)
	if w.dataType == "text" {
		v = fmt.Sprintf("%d bytes", len(v))
	}
	if cur.Type != types.ParameterTypeString {
		v += ", type " + string(cur.Type)
	}
	if dt := aws.ToString(cur.DataType); dt != w.dataType {
		v += ", data type " + dt
	}
	return v
}

// tag adds the configured tags the existing parameter lacks.
func (c *Config) tag(ctx context.Context, cl tagger, region, name string, apply bool) ([]string, error) {
	if len(c.Tags) == 0 {
		return nil, nil
	}
	out, err := cl.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("read tags of parameter %s in %s: %w", name, region, err)
	}
	have := map[string]string{}
	for _, t := range out.TagList {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	missing := map[string]string{}
	for k, v := range c.Tags {
		if cur, ok := have[k]; !ok || cur != v {
			missing[k] = v
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(missing)) {
		kv = append(kv, k+"="+missing[k])
	}
	line := fmt.Sprintf("tag parameter %s in %s: %s", name, region, strings.Join(kv, ", "))
	if apply {
		_, err := cl.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter,
			ResourceId: aws.String(name), Tags: ssmTags(missing)})
		if err != nil {
			return nil, fmt.Errorf("tag parameter %s in %s: %w", name, region, err)
		}
	}
	return []string{line}, nil
}

func ssmTags(m map[string]string) []types.Tag {
	var out []types.Tag
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// bootPayload is the boot payload to publish.
type bootPayload struct {
	path    string
	data    []byte
	planned bool // the file is not written yet (imgbuild plan)
}

// payload reads the artifact's boot payload when boot_payload_name is
// set; nil when there is nothing to publish.
func (c *Config) payload(env *artifact.Env, a *artifact.Artifact) (*bootPayload, error) {
	if c.BootPayloadName == "" || a.BootPayload == "" {
		return nil, nil
	}
	baseDir := ""
	if env != nil {
		baseDir = env.BaseDir
	}
	data, err := os.ReadFile(check.Resolve(baseDir, a.BootPayload))
	if errors.Is(err, os.ErrNotExist) && a.Planned {
		return &bootPayload{path: a.BootPayload, planned: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("boot payload for %s: %w", c.BootPayloadName, err)
	}
	if err := payloadFits(a.BootPayload, data); err != nil {
		return nil, fmt.Errorf("boot payload for %s: %w", c.BootPayloadName, err)
	}
	return &bootPayload{path: a.BootPayload, data: data}, nil
}

// payloadFits checks that data can be the value of a String parameter.
func payloadFits(path string, data []byte) error {
	switch {
	case len(data) > advancedLimit:
		return fmt.Errorf("%s is %d bytes; an SSM parameter holds at most %d (Advanced tier)", path, len(data), advancedLimit)
	case !utf8.Valid(data):
		return fmt.Errorf("%s is not UTF-8 text (gzip-compressed?); an SSM String parameter holds text only", path)
	}
	return nil
}

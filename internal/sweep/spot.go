package sweep

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// A spot launch creates two resources besides its instance: a temporary
// launch template and the EC2 fleet of type "instant" that launched the
// instance. Neither costs anything once the instance is gone, but both
// stay listed in the account, so cleanup removes them like the rest.

// describeLaunchTemplates reads every page of a filtered
// DescribeLaunchTemplates.
func describeLaunchTemplates(ctx context.Context, c *ec2.Client, fs []types.Filter) ([]types.LaunchTemplate, error) {
	var out []types.LaunchTemplate
	p := ec2.NewDescribeLaunchTemplatesPaginator(c, &ec2.DescribeLaunchTemplatesInput{Filters: fs})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.LaunchTemplates...)
	}
	return out, nil
}

// describeFleets reads every page of DescribeFleets (by ID when ids is not
// empty). DescribeFleets has no tag filters: callers match tags themselves.
func describeFleets(ctx context.Context, c *ec2.Client, ids []string) ([]types.FleetData, error) {
	var out []types.FleetData
	p := ec2.NewDescribeFleetsPaginator(c, &ec2.DescribeFleetsInput{FleetIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Fleets...)
	}
	return out, nil
}

// fleetDeleted reports whether a fleet is deleted (deleted,
// deleted_running, deleted_terminating): nothing is left to remove.
func fleetDeleted(f types.FleetData) bool {
	return strings.HasPrefix(string(f.FleetState), "deleted")
}

// hasTags reports whether tags hold every filter of fs that is a tag
// filter ("tag:KEY" = value, or "tag-key" = KEY).
func hasTags(tags []types.Tag, fs []types.Filter) bool {
	m := tagMap(tags)
	for _, f := range fs {
		name := aws.ToString(f.Name)
		for _, v := range f.Values {
			if key, ok := strings.CutPrefix(name, "tag:"); ok && m[key] != v {
				return false
			}
			if _, ok := m[v]; name == "tag-key" && !ok {
				return false
			}
		}
	}
	return true
}

// resolveLaunchTemplate finds a launch template by name and, when the
// intent has a run tag, by its run and build tags too.
func resolveLaunchTemplate(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	if r.Name == "" {
		return nil, errors.New("the intent has no launch template name to find it by")
	}
	fs, _ := runFilters(r) // no run tag: by name alone
	lts, err := describeLaunchTemplates(ctx, c, append(fs, filter("launch-template-name", r.Name)))
	var ids []string
	for _, lt := range lts {
		ids = append(ids, aws.ToString(lt.LaunchTemplateId))
	}
	return ids, err
}

// resolveFleet finds the fleet of a spot launch by its run and build tags
// (and its client token when EC2 reports one), among the fleets not
// deleted.
func resolveFleet(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	fs, err := runFilters(r)
	if err != nil {
		return nil, err
	}
	fleets, err := describeFleets(ctx, c, nil)
	var ids []string
	for _, f := range fleets {
		tok := aws.ToString(f.ClientToken)
		if !fleetDeleted(f) && hasTags(f.Tags, fs) && (tok == "" || r.ClientToken == "" || tok == r.ClientToken) {
			ids = append(ids, aws.ToString(f.FleetId))
		}
	}
	return ids, err
}

// deleteLaunchTemplate makes one attempt at deleting a launch template.
func deleteLaunchTemplate(ctx context.Context, c *ec2.Client, id string) error {
	_, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(id)})
	return err
}

// listedLaunchTemplate is listed for a launch template: a describe
// filtered by its run tag (when r has one), matched by ID.
func listedLaunchTemplate(ctx context.Context, c *ec2.Client, r journal.Resource, fs []types.Filter) (bool, string, error) {
	lts, err := describeLaunchTemplates(ctx, c, fs)
	for _, lt := range lts {
		if aws.ToString(lt.LaunchTemplateId) == r.ID {
			return true, "listed", err
		}
	}
	return false, "not listed", err
}

// deleteFleet deletes a fleet with its instances (EC2 requires
// TerminateInstances for an instant fleet; cleanup terminates the
// instance first, so none is left by then). A fleet not listed, or
// already deleted, is gone.
func deleteFleet(ctx context.Context, c *ec2.Client, id string) error {
	fleets, err := describeFleets(ctx, c, []string{id})
	if awsapi.IsGone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(fleets) == 0 || fleetDeleted(fleets[0]) {
		return nil
	}
	out, err := c.DeleteFleets(ctx, &ec2.DeleteFleetsInput{FleetIds: []string{id}, TerminateInstances: aws.Bool(true)})
	if err != nil {
		return err
	}
	for _, u := range out.UnsuccessfulFleetDeletions {
		if e := u.Error; e != nil && !strings.HasSuffix(string(e.Code), "NotFound") {
			return errors.New(string(e.Code) + ": " + aws.ToString(e.Message))
		}
	}
	return nil
}

func listLaunchTemplates(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	lts, err := describeLaunchTemplates(ctx, c, fs)
	var out []found
	for _, lt := range lts {
		out = append(out, newFound(journal.LaunchTemplate, region, aws.ToString(lt.LaunchTemplateId),
			aws.ToString(lt.LaunchTemplateName), lt.Tags, lt.CreateTime))
	}
	return out, err
}

func listFleets(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	fleets, err := describeFleets(ctx, c, nil)
	var out []found
	for _, f := range fleets {
		if !fleetDeleted(f) && hasTags(f.Tags, fs) {
			out = append(out, newFound(journal.Fleet, region, aws.ToString(f.FleetId), "", f.Tags, f.CreateTime))
		}
	}
	return out, err
}

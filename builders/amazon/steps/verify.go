package steps

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// An endpoint may accept a create and drop part of it (an emulator that
// ignores snapshot TagSpecifications, a region that lags behind on a
// feature): after each create the result is checked against what was
// asked, and what is missing is applied and reported as a warning. The
// checks reuse what the build already has (the waiter's last describe of
// the available image) and add one describe where it has nothing.

// checkTags compares the tags of rec's available image and of its
// snapshots with imgTags and snapTags, and applies the missing ones. The
// image is the waiter's last observation, and so are the snapshots when
// that tick described every one of them (a wait with progress does);
// otherwise one DescribeSnapshots reads them.
func (b *build) checkTags(ctx context.Context, rec *imageRecord, imgTags, snapTags map[string]string) error {
	if miss := missingTags(rec.image.Tags, imgTags); len(miss) > 0 {
		if err := b.applyTags(ctx, rec.Region, rec.ID, "image", miss); err != nil {
			return err
		}
	}
	if len(rec.Snapshots) == 0 || len(snapTags) == 0 {
		return nil
	}
	snaps, err := b.imageSnapshots(ctx, rec)
	if err != nil {
		return err
	}
	for _, s := range snaps {
		if miss := missingTags(s.Tags, snapTags); len(miss) > 0 {
			if err := b.applyTags(ctx, rec.Region, aws.ToString(s.SnapshotId), "snapshot", miss); err != nil {
				return err
			}
		}
	}
	return nil
}

// imageSnapshots returns the snapshots of rec's image: those the waiter
// saw in its last tick when they are all there, else a fresh describe.
func (b *build) imageSnapshots(ctx context.Context, rec *imageRecord) ([]types.Snapshot, error) {
	seen := map[string]bool{}
	for _, s := range rec.image.Snapshots {
		seen[aws.ToString(s.SnapshotId)] = true
	}
	all := len(seen) > 0
	for _, id := range rec.Snapshots {
		all = all && seen[id]
	}
	if all {
		return rec.image.Snapshots, nil
	}
	out, err := b.ec2(rec.Region).DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: rec.Snapshots}, awsapi.RetryEventual)
	if err != nil {
		return nil, fmt.Errorf("check the tags of the snapshots %v of image %s in %s: %w", rec.Snapshots, rec.ID, rec.Region, err)
	}
	return out.Snapshots, nil
}

// missingTags returns the tags of want that have is lacks or holds with
// another value.
func missingTags(have []types.Tag, want map[string]string) map[string]string {
	got := make(map[string]string, len(have))
	for _, t := range have {
		got[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	miss := map[string]string{}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			miss[k] = v
		}
	}
	return miss
}

// applyTags tags resource id (a kind in what) with the tags its create
// dropped, with a warning.
func (b *build) applyTags(ctx context.Context, region, id, what string, miss map[string]string) error {
	keys := slices.Sorted(maps.Keys(miss))
	b.warn("the endpoint dropped the tags %s of %s %s in %s; applying them", strings.Join(keys, ", "), what, id, region)
	if _, err := b.ec2(region).CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: ec2Tags(miss)},
		awsapi.RetryEventual); err != nil {
		return fmt.Errorf("apply the dropped tags %v to %s %s in %s: %w", keys, what, id, region, err)
	}
	return nil
}

// checkLaunchPermissions reads the launch permissions of image id back
// after sharing it and adds those of want that the endpoint dropped.
func (b *build) checkLaunchPermissions(ctx context.Context, region, id string, want []types.LaunchPermission) error {
	c := b.ec2(region)
	out, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
		ImageId: aws.String(id), Attribute: types.ImageAttributeNameLaunchPermission,
	}, awsapi.RetryEventual)
	if err != nil {
		return fmt.Errorf("check the launch permissions of image %s in %s: %w", id, region, err)
	}
	have := map[string]bool{}
	for _, p := range out.LaunchPermissions {
		have[permissionKey(p)] = true
	}
	var miss []types.LaunchPermission
	var names []string
	for _, p := range want {
		if k := permissionKey(p); !have[k] {
			miss, names = append(miss, p), append(names, k)
		}
	}
	if len(miss) == 0 {
		return nil
	}
	b.warn("the endpoint dropped the launch permissions %s of image %s in %s; applying them", strings.Join(names, ", "), id, region)
	if _, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
		ImageId: aws.String(id), LaunchPermission: &types.LaunchPermissionModifications{Add: miss},
	}, awsapi.RetryEventual); err != nil {
		return fmt.Errorf("apply the dropped launch permissions %v of image %s in %s: %w", names, id, region, err)
	}
	return nil
}

// permissionKey names a launch permission, e.g. "user 123456789012".
func permissionKey(p types.LaunchPermission) string {
	switch {
	case aws.ToString(p.UserId) != "":
		return "user " + aws.ToString(p.UserId)
	case aws.ToString(p.OrganizationArn) != "":
		return "organization " + aws.ToString(p.OrganizationArn)
	case aws.ToString(p.OrganizationalUnitArn) != "":
		return "organizational unit " + aws.ToString(p.OrganizationalUnitArn)
	}
	return "group " + string(p.Group)
}

// warn logs a warning with the build's logger and tells the user.
func (b *build) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if b.env.Logger != nil {
		b.env.Logger.Warn(msg, "build", b.env.BuildName)
	}
	b.say("warning: %s", msg)
}

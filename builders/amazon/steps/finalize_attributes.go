package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
)

// share applies launch permissions (ami_users, ami_groups, ami_org_arns,
// ami_ou_arns), product codes and the snapshots' createVolumePermission
// (snapshot_users, snapshot_groups): none of them survive a copy.
func (n *finalizeRegion) share(ctx context.Context, img *imageRecord) error {
	b, region := n.b, n.region
	c := b.ec2(region)
	if perms := launchPermissions(b.cfg); len(perms) > 0 {
		if _, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
			ImageId: aws.String(img.ID), LaunchPermission: &types.LaunchPermissionModifications{Add: perms},
		}, awsapi.RetryEventual); err != nil {
			return fmt.Errorf("share image %s in %s: %w", img.ID, region, err)
		}
		if err := b.checkLaunchPermissions(ctx, region, img.ID, perms); err != nil {
			return err
		}
	}
	if codes := b.cfg.AMIProductCodes; len(codes) > 0 {
		if _, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
			ImageId: aws.String(img.ID), ProductCodes: codes,
		}, awsapi.RetryEventual); err != nil {
			return fmt.Errorf("add product codes to image %s in %s: %w", img.ID, region, err)
		}
	}
	if len(b.cfg.SnapshotUsers) == 0 && len(b.cfg.SnapshotGroups) == 0 {
		return nil
	}
	for _, s := range img.Snapshots {
		if _, err := c.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{
			SnapshotId: aws.String(s), Attribute: types.SnapshotAttributeNameCreateVolumePermission,
			OperationType: types.OperationTypeAdd, UserIds: b.cfg.SnapshotUsers, GroupNames: b.cfg.SnapshotGroups,
		}, awsapi.RetryEventual); err != nil {
			return fmt.Errorf("share snapshot %s of image %s in %s: %w", s, img.ID, region, err)
		}
	}
	return nil
}

// launchPermissions returns the launch permissions to add.
func launchPermissions(cfg *Config) []types.LaunchPermission {
	var out []types.LaunchPermission
	for _, u := range cfg.AMIUsers {
		out = append(out, types.LaunchPermission{UserId: aws.String(u)})
	}
	for _, g := range cfg.AMIGroups {
		out = append(out, types.LaunchPermission{Group: types.PermissionGroup(g)})
	}
	for _, a := range cfg.AMIOrgArns {
		out = append(out, types.LaunchPermission{OrganizationArn: aws.String(a)})
	}
	for _, a := range cfg.AMIOuArns {
		out = append(out, types.LaunchPermission{OrganizationalUnitArn: aws.String(a)})
	}
	return out
}

// lifecycle sets imds_support and deprecate_at. Deregistration protection
// waits for join, so that a failed build never leaves a protected image.
func (n *finalizeRegion) lifecycle(ctx context.Context, img *imageRecord) error {
	b, region := n.b, n.region
	c := b.ec2(region)
	if v := b.cfg.AMIIMDSSupport; v != "" {
		if _, err := c.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
			ImageId: aws.String(img.ID), ImdsSupport: &types.AttributeValue{Value: aws.String(v)},
		}, awsapi.RetryEventual); err != nil {
			return fmt.Errorf("set imds_support on image %s in %s: %w", img.ID, region, err)
		}
	}
	if b.cfg.DeprecationTime == "" {
		return nil
	}
	at, err := time.Parse(time.RFC3339, b.cfg.DeprecationTime)
	if err != nil {
		return fmt.Errorf("deprecate_at: %w", err)
	}
	if _, err := c.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{
		ImageId: aws.String(img.ID), DeprecateAt: aws.Time(at),
	}, awsapi.RetryEventual); err != nil {
		return fmt.Errorf("deprecate image %s in %s at %s: %w", img.ID, region, b.cfg.DeprecationTime, err)
	}
	return nil
}

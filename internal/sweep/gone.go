package sweep

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// A NotFound from a call naming a resource by its ID does not prove that
// the resource is gone: EC2 is eventually consistent, and an ID created a
// moment ago answers Invalid*.NotFound for a while (aws.md 3.9), to
// TerminateInstances as much as to DeregisterImage. Delete therefore
// treats such an answer as "not yet visible" until a describe filtered by
// the ID (and the run tag when the resource record has it), which lists
// what exists whether or not by-ID calls see it yet, confirms the absence.
// While the filtered describe still lists it, the delete is tried again,
// for up to the grace window.

// notListed is the NotFound for an ID a by-ID Describe answered without
// error but without the resource.
func notListed(code, id string) error {
	return &smithy.GenericAPIError{Code: code, Message: id + " is not in the describe response"}
}

// confirmDelay is the first delay between two tries of a delete answered
// NotFound while a filtered describe still lists the resource.
var confirmDelay = time.Second

// deleteConfirmed calls del until it succeeds, fails otherwise than with
// a NotFound, or a NotFound is confirmed by a filtered describe (listed).
// A resource still listed after grace is an error naming it.
func deleteConfirmed(ctx context.Context, c *ec2.Client, r journal.Resource, grace time.Duration, del func(context.Context) error) error {
	return awsapi.Wait(ctx, awsapi.WaitSpec{
		What:       fmt.Sprintf("%s %s, answered NotFound by ID, to be absent from a filtered describe", r.Type, r.ID),
		Timeout:    grace,
		FirstDelay: confirmDelay,
		MaxDelay:   5 * confirmDelay,
		Check: func(ctx context.Context) (bool, string, error) {
			err := del(ctx)
			if err == nil {
				return true, "deleted", nil
			}
			if !awsapi.IsGone(err) {
				return false, "", err
			}
			present, state, lerr := listed(ctx, c, r)
			if lerr != nil {
				return false, "", fmt.Errorf("%w; confirming that it is gone: %w", err, lerr)
			}
			return !present, state, nil
		},
	})
}

// listed reports whether r still exists according to a describe filtered
// by its ID and, when r has one, its run tag, and the state it is in. A
// terminated instance and a deregistered image do not count.
func listed(ctx context.Context, c *ec2.Client, r journal.Resource) (bool, string, error) {
	var fs []types.Filter
	if run := r.Tags[tagRunID]; run != "" {
		fs = append(fs, filter("tag:"+tagRunID, run))
	}
	switch r.Type {
	case journal.Instance:
		insts, err := describeInstances(ctx, c, append(fs, filter("instance-id", r.ID)))
		for _, i := range insts {
			if i.State != nil && i.State.Name != types.InstanceStateNameTerminated {
				return true, "listed " + string(i.State.Name), err
			}
		}
		return false, "not listed", err
	case journal.Image:
		imgs, err := describeImages(ctx, c, append(fs, filter("image-id", r.ID)))
		for _, img := range imgs {
			if img.State != types.ImageStateDeregistered {
				return true, "listed " + string(img.State), err
			}
		}
		return false, "not listed", err
	case journal.Snapshot:
		snaps, err := describeSnapshots(ctx, c, append(fs, filter("snapshot-id", r.ID)))
		return len(snaps) > 0, listedState(len(snaps)), err
	case journal.Volume:
		vols, err := describeVolumes(ctx, c, append(fs, filter("volume-id", r.ID)))
		return len(vols) > 0, listedState(len(vols)), err
	case journal.SecurityGroup:
		groups, err := describeSecurityGroups(ctx, c, append(fs, filter("group-id", r.ID)))
		return len(groups) > 0, listedState(len(groups)), err
	case journal.KeyPair:
		return listedKeyPair(ctx, c, r, fs)
	case journal.LaunchTemplate:
		return listedLaunchTemplate(ctx, c, r, fs)
	}
	return false, "", fmt.Errorf("cannot confirm that %s %s is gone; check by hand", r.Type, r.ID)
}

// listedKeyPair is listed for a key pair, by name or key pair ID.
func listedKeyPair(ctx context.Context, c *ec2.Client, r journal.Resource, fs []types.Filter) (bool, string, error) {
	switch {
	case r.Name != "":
		fs = append(fs, filter("key-name", r.Name))
	case strings.HasPrefix(r.ID, "key-"):
		fs = append(fs, filter("key-pair-id", r.ID))
	default:
		fs = append(fs, filter("key-name", r.ID))
	}
	out, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: fs})
	if err != nil {
		return false, "", err
	}
	return len(out.KeyPairs) > 0, listedState(len(out.KeyPairs)), nil
}

func listedState(n int) string {
	if n > 0 {
		return "listed"
	}
	return "not listed"
}

// graceOf is the window within which a NotFound may only mean "not yet
// visible": t.NotFoundGrace, or the default.
func graceOf(t awsapi.Timeouts) time.Duration {
	if t.NotFoundGrace > 0 {
		return t.NotFoundGrace
	}
	return awsapi.DefaultTimeouts().NotFoundGrace
}

// instanceGone waits until a describe filtered by the instance's ID (and
// run tag) no longer lists it as anything but terminated: the by-ID waiter
// counts an instance it cannot see as terminated, which a young instance
// is not.
func instanceGone(ctx context.Context, c *ec2.Client, r journal.Resource, timeout time.Duration) error {
	return awsapi.Wait(ctx, awsapi.WaitSpec{
		What:    fmt.Sprintf("instance %s in %s terminated (filtered describe)", r.ID, r.Region),
		Timeout: timeout,
		Check: func(ctx context.Context) (bool, string, error) {
			present, state, err := listed(ctx, c, r)
			return !present, state, err
		},
	})
}

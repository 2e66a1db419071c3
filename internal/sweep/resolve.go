package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/lease"
	"github.com/imgbuild/imgbuild/internal/tags"
)

// ErrNotFound is matched (errors.Is) by the error Resolve returns when the
// create call an intent recorded created nothing.
var ErrNotFound = errors.New("not found")

// Resolve finds the ID of a resource whose intent was journaled without
// one: the process died between the create call and recording its result,
// or the call failed without an answer saying whether it took effect (a
// cancelled context, a transport error). Lookups are in r.Region.
// It returns r with ID set, or an error matching ErrNotFound when nothing
// was created. An intent that matches several resources is an error naming
// them.
func Resolve(ctx context.Context, sess *awsapi.Session, r journal.Resource) (journal.Resource, error) {
	if r.ID != "" {
		return r, nil
	}
	c := sess.EC2(r.Region)
	var ids []string
	var err error
	switch r.Type {
	case journal.Instance:
		ids, err = resolveInstance(ctx, c, r)
	case journal.KeyPair:
		ids, err = resolveKeyPair(ctx, c, r)
	case journal.SecurityGroup:
		ids, err = resolveSecurityGroup(ctx, c, r)
	case journal.Image:
		ids, err = resolveImage(ctx, c, r)
	case journal.BundleTask:
		ids, err = resolveBundleTask(ctx, c, r)
	case journal.Lease:
		ids, err = resolveLease(ctx, sess, r)
	case journal.LaunchTemplate:
		ids, err = resolveLaunchTemplate(ctx, c, r)
	case journal.Fleet:
		ids, err = resolveFleet(ctx, c, r)
	default:
		ids, err = resolveByTags(ctx, c, r)
	}
	what := fmt.Sprintf("%s %s in %s", r.Type, describeIntent(r), r.Region)
	switch {
	case err != nil:
		return r, fmt.Errorf("look up %s: %w", what, err)
	case len(ids) == 0:
		return r, fmt.Errorf("look up %s: %w", what, ErrNotFound)
	case len(ids) > 1:
		return r, fmt.Errorf("look up %s: %d matches (%s); remove the right one by hand", what, len(ids), strings.Join(ids, ", "))
	}
	r.ID = ids[0]
	return r, nil
}

// describeIntent names an intent by what identifies it.
func describeIntent(r journal.Resource) string {
	switch {
	case r.Name != "":
		return fmt.Sprintf("named %q", r.Name)
	case r.ClientToken != "":
		return "with client token " + r.ClientToken
	}
	return fmt.Sprintf("of run %s build %s", r.Tags[tagRunID], r.Tags[tagBuild])
}

// runFilters are the tag filters that find a run's resources of a build.
// Without a run tag nothing identifies the resource, which is an error.
func runFilters(r journal.Resource) ([]types.Filter, error) {
	run := r.Tags[tagRunID]
	if run == "" {
		return nil, fmt.Errorf("the intent has no client token, name or %s tag to find it by", tagRunID)
	}
	fs := []types.Filter{filter("tag:"+tagRunID, run)}
	if b := r.Tags[tagBuild]; b != "" {
		fs = append(fs, filter("tag:"+tagBuild, b))
	}
	return fs, nil
}

// resolveInstance finds an instance by its run and build tags, and by
// its client token when the intent has one. With a run tag the token is
// matched in the results, so no client-token filter is needed (the local
// cloud lacks it); without one the token is the filter.
func resolveInstance(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	fs, err := runFilters(r)
	if err != nil && r.ClientToken == "" {
		return nil, err
	}
	if err != nil {
		fs = []types.Filter{filter("client-token", r.ClientToken)}
	}
	insts, err := describeInstances(ctx, c, fs)
	var ids []string
	for _, i := range insts {
		if r.ClientToken == "" || aws.ToString(i.ClientToken) == r.ClientToken {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	return ids, err
}

// resolveKeyPair finds a key pair by name and, when the intent has a run
// tag, by its run and build tags too: a key pair of that name that is not
// the run's (temporary_key_pair_name naming someone else's) is not it.
func resolveKeyPair(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	if r.Name == "" {
		return nil, errors.New("the intent has no key name to find it by")
	}
	fs, _ := runFilters(r) // no run tag: by name alone
	out, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{r.Name}, Filters: fs})
	if awsapi.IsNotFound(err) {
		return nil, nil
	}
	var ids []string
	if err == nil {
		for _, k := range out.KeyPairs {
			ids = append(ids, keyPairID(k))
		}
	}
	return ids, err
}

// resolveSecurityGroup finds a group by name and, when the intent has a
// run tag, by its run and build tags too.
func resolveSecurityGroup(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	if r.Name == "" {
		return nil, errors.New("the intent has no group name to find it by")
	}
	fs, _ := runFilters(r) // no run tag: by name alone
	groups, err := describeSecurityGroups(ctx, c, append(fs, filter("group-name", r.Name)))
	var ids []string
	for _, g := range groups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	return ids, err
}

// resolveImage finds an image (or a copy, which has the source's name and
// tags) by its run tag, build tag and name when the intent has one.
func resolveImage(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	fs, err := runFilters(r)
	if err != nil {
		return nil, err
	}
	if r.Name != "" {
		fs = append(fs, filter("name", r.Name))
	}
	imgs, err := describeImages(ctx, c, fs)
	var ids []string
	for _, img := range imgs {
		ids = append(ids, aws.ToString(img.ImageId))
	}
	return ids, err
}

// resolveByTags finds snapshots and volumes by their run and build tags.
func resolveByTags(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	fs, err := runFilters(r)
	if err != nil {
		return nil, err
	}
	var ids []string
	switch r.Type {
	case journal.Snapshot:
		if strings.HasPrefix(r.Parent, "vol-") {
			// A snapshot of one volume of several (amazon-ebssurrogate):
			// the run's tags alone match all of them.
			fs = append(fs, filter("volume-id", r.Parent))
		}
		snaps, err := describeSnapshots(ctx, c, fs)
		for _, s := range snaps {
			ids = append(ids, aws.ToString(s.SnapshotId))
		}
		return ids, err
	case journal.Volume:
		vols, err := describeVolumes(ctx, c, fs)
		for _, v := range vols {
			ids = append(ids, aws.ToString(v.VolumeId))
		}
		return ids, err
	}
	return nil, fmt.Errorf("imgbuild cannot look up a %s without its id; check by hand", r.Type)
}

// resolveBundleTask finds the unfinished bundle task of the instance a
// BundleInstance intent names (its Parent): a task has no tags.
func resolveBundleTask(ctx context.Context, c *ec2.Client, r journal.Resource) ([]string, error) {
	if r.Parent == "" {
		return nil, nil
	}
	out, err := c.DescribeBundleTasks(ctx, &ec2.DescribeBundleTasksInput{Filters: []types.Filter{filter("instance-id", r.Parent)}})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range out.BundleTasks {
		if t.State != types.BundleTaskStateComplete && t.State != types.BundleTaskStateFailed {
			ids = append(ids, aws.ToString(t.BundleId))
		}
	}
	return ids, nil
}

// resolveLease finds the lease an intent names when the run that
// journaled it holds it.
func resolveLease(ctx context.Context, sess *awsapi.Session, r journal.Resource) ([]string, error) {
	h, err := lease.Current(ctx, sess.SSM(r.Region), r.Name)
	if err != nil || h == nil || !lease.HeldByRun(h.Holder, r.Tags[tags.RunID]) {
		return nil, err
	}
	return []string{r.Name}, nil
}

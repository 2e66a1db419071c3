package sweep

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/imgbuild/imgbuild/internal/awsapi"
	"github.com/imgbuild/imgbuild/internal/journal"
)

// regionLimit caps how many regions FindByTags scans at once.
const regionLimit = 8

// found is a resource a tag sweep found, with its creation time (zero when
// EC2 gives none, as for security groups).
type found struct {
	res     journal.Resource
	created time.Time
}

// FindByTags lists every resource carrying the imgbuild:run-id tag (with
// value runID, or any value when runID is empty) in regions, in deletion
// order (see Order). The images and snapshots of a finished build are
// never listed (see dropFinished). Only resources created at least olderThan before now are
// listed; a security group, which has no creation time, is as old as the
// oldest other resource of its run found, and when none is found it is
// listed only if olderThan is zero. unmarked lists, whatever their age,
// the finished builds' images and snapshots that lack the
// imgbuild:complete tag (their build was stopped while tagging them), for
// MarkComplete.
func FindByTags(ctx context.Context, sess *awsapi.Session, regions []string, runID string,
	olderThan time.Duration, now time.Time) (leftovers, unmarked []journal.Resource, err error) {
	var (
		mu  sync.Mutex
		all []found
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(regionLimit)
	for _, region := range regions {
		g.Go(func() error {
			fs, err := findInRegion(ctx, sess.EC2(region), region, runID)
			if err != nil {
				return fmt.Errorf("find imgbuild resources in %s: %w", region, err)
			}
			mu.Lock()
			all = append(all, fs...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	rest, finished := dropFinished(all)
	out := selectOld(rest, olderThan, now)
	Order(out)
	for _, f := range finished {
		if _, done := f.res.Tags[tagComplete]; !done {
			unmarked = append(unmarked, f.res)
		}
	}
	return out, unmarked, nil
}

// Regions returns the session's region followed by every other region EC2
// lists for the account.
func Regions(ctx context.Context, sess *awsapi.Session) ([]string, error) {
	home := sess.Region()
	out, err := sess.EC2(home).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("list regions from %s: %w", home, err)
	}
	regions := []string{home}
	for _, r := range out.Regions {
		if name := aws.ToString(r.RegionName); name != home {
			regions = append(regions, name)
		}
	}
	return regions, nil
}

// lister lists one type of tagged resource in a region.
type lister func(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error)

var listers = []lister{listInstances, listSecurityGroups, listKeyPairs, listImages, listSnapshots, listVolumes,
	listFleets, listLaunchTemplates}

// findInRegion runs every lister in one region.
func findInRegion(ctx context.Context, c *ec2.Client, region, runID string) ([]found, error) {
	fs := []types.Filter{filter("tag-key", tagRunID)}
	if runID != "" {
		fs = []types.Filter{filter("tag:"+tagRunID, runID)}
	}
	var all []found
	for _, list := range listers {
		f, err := list(ctx, c, region, fs)
		if err != nil {
			return nil, err
		}
		all = append(all, f...)
	}
	return all, nil
}

// newFound makes a found resource from what EC2 describes.
func newFound(typ journal.Type, region, id, name string, tags []types.Tag, created *time.Time) found {
	m := tagMap(tags)
	return found{
		res: journal.Resource{Type: typ, Region: region, ID: id, Name: name, Build: m[tagBuild],
			Tags: m, State: journal.StateCreated},
		created: aws.ToTime(created),
	}
}

func listInstances(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	fs = append(fs, filter("instance-state-name", "pending", "running", "shutting-down", "stopping", "stopped"))
	insts, err := describeInstances(ctx, c, fs)
	var out []found
	for _, i := range insts {
		out = append(out, newFound(journal.Instance, region, aws.ToString(i.InstanceId), "", i.Tags, i.LaunchTime))
	}
	return out, err
}

func listSecurityGroups(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	groups, err := describeSecurityGroups(ctx, c, fs)
	var out []found
	for _, g := range groups {
		out = append(out, newFound(journal.SecurityGroup, region, aws.ToString(g.GroupId), aws.ToString(g.GroupName), g.Tags, nil))
	}
	return out, err
}

func listKeyPairs(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	keys, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: fs})
	if err != nil {
		return nil, err
	}
	var out []found
	for _, k := range keys.KeyPairs {
		out = append(out, newFound(journal.KeyPair, region, keyPairID(k), aws.ToString(k.KeyName), k.Tags, k.CreateTime))
	}
	return out, nil
}

func listImages(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	imgs, err := describeImages(ctx, c, fs)
	var out []found
	for _, img := range imgs {
		created, _ := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
		out = append(out, newFound(journal.Image, region, aws.ToString(img.ImageId), aws.ToString(img.Name), img.Tags, &created))
	}
	return out, err
}

func listSnapshots(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	snaps, err := describeSnapshots(ctx, c, fs)
	var out []found
	for _, s := range snaps {
		out = append(out, newFound(journal.Snapshot, region, aws.ToString(s.SnapshotId), "", s.Tags, s.StartTime))
	}
	return out, err
}

func listVolumes(ctx context.Context, c *ec2.Client, region string, fs []types.Filter) ([]found, error) {
	vols, err := describeVolumes(ctx, c, fs)
	var out []found
	for _, v := range vols {
		out = append(out, newFound(journal.Volume, region, aws.ToString(v.VolumeId), "", v.Tags, v.CreateTime))
	}
	return out, err
}

// dropFinished removes the images and snapshots of finished builds: every
// image and snapshot of a run and build of which at least one image is
// tagged imgbuild:complete, and any image or snapshot so tagged. A build
// tags its final images one region at a time after journaling them as
// kept, so a crash while tagging leaves only some of them tagged: the tag
// on any one of them says the build committed them all.
// It returns the rest, and what it removed.
func dropFinished(all []found) (rest, output []found) {
	finished := map[[2]string]bool{} // run ID, build -> some image is complete
	for _, f := range all {
		if _, done := f.res.Tags[tagComplete]; done && f.res.Type == journal.Image {
			finished[runBuild(f.res)] = true
		}
	}
	for _, f := range all {
		_, done := f.res.Tags[tagComplete]
		isOutput := f.res.Type == journal.Image || f.res.Type == journal.Snapshot
		if isOutput && (done || finished[runBuild(f.res)]) {
			output = append(output, f)
			continue
		}
		rest = append(rest, f)
	}
	return rest, output
}

// runBuild returns the run and build a resource is tagged with.
func runBuild(r journal.Resource) [2]string {
	return [2]string{r.Tags[tagRunID], r.Tags[tagBuild]}
}

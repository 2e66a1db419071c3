package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/imgbuild/imgbuild/internal/journal"
	"github.com/imgbuild/imgbuild/internal/localcloud"
	"github.com/imgbuild/imgbuild/internal/testenv"
)

const copyRegion = "eu-west-1"

// cleanupCloud is a local cloud and a state directory for cleanup tests,
// which run in parallel: imgbuild cleanup runs as a separate process
// given the cloud's environment.
type cleanupCloud struct {
	t    *testing.T
	url  string
	dir  string // the state directory
	work string // imgbuild's working directory
	env  []string
}

func newCleanupCloud(t *testing.T) *cleanupCloud {
	t.Helper()
	t.Parallel()
	s, err := localcloud.ProfileSettings("instant")
	if err != nil {
		t.Fatal(err)
	}
	s.SSH = false
	cloud := testenv.LocalCloud(t, s)
	env := append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true")
	return &cleanupCloud{t: t, url: cloud.URL(), dir: t.TempDir(), work: t.TempDir(), env: append(env, cloud.Env()...)}
}

func (c *cleanupCloud) ec2(region string) *ec2.Client {
	return ec2.NewFromConfig(testenv.AWSConfig(c.url, region))
}

// cleanup runs `imgbuild cleanup --state-dir DIR args...`.
func (c *cleanupCloud) cleanup(args ...string) (int, string, string) {
	c.t.Helper()
	return c.imgbuild(append([]string{"cleanup", "--state-dir", c.dir}, args...)...)
}

// imgbuild runs imgbuild with args in the cloud's environment.
func (c *cleanupCloud) imgbuild(args ...string) (int, string, string) {
	c.t.Helper()
	e := &e2e{t: c.t, dir: c.work, env: c.env}
	code, out, errOut := e.imgbuild(args...)
	c.t.Logf("imgbuild %s: exit %d\nstdout:\n%sstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	return code, out, errOut
}

// TestCleanupJournal crashes a run that created every kind of resource,
// some only as intents, then cleans it up from the journal.
func TestCleanupJournal(t *testing.T) {
	c := newCleanupCloud(t)
	s := c.seed("run1")

	code, _, _ := c.cleanup("--dry-run")
	if code != exitOK {
		t.Fatalf("dry run: exit %d", code)
	}
	c.assertExist(s.all())
	if runs, _ := journal.List(c.dir); len(runs) != 1 || !runs[0].Orphaned() {
		t.Fatalf("after a dry run the run should still be orphaned: %+v", runs)
	}

	code, out, errOut := c.cleanup()
	if code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	// The seeded journal, like those of older versions, records no account.
	if want := "warning: run run1 build web: account not checked: its journal records no account"; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q", want)
	}
	for _, want := range []string{"us-east-1: terminated instance " + s.instance, "eu-west-1: deregistered image " + s.copy,
		"us-east-1: key-pair \"never-created\" was never created", "removed "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	c.assertGone(s.removable())
	c.assertExist(s.kept)
	c.assertComplete(s.unmarked)
	runs, err := journal.List(c.dir)
	if err != nil || len(runs) != 1 || !runs[0].Ended || runs[0].Orphaned() {
		t.Fatalf("run not ended: %+v, %v", runs, err)
	}
	run, _ := journal.Read(runs[0].Path)
	if left := run.Leftovers(); len(left) != 0 {
		t.Errorf("journal still lists leftovers: %+v", left)
	}

	code, out, _ = c.cleanup()
	if code != exitOK || !strings.Contains(out, "nothing to clean up") {
		t.Errorf("second cleanup: exit %d, output %q; want 0 and nothing to do", code, out)
	}
}

// TestCleanupTags loses the journal and sweeps by tags: everything the run
// tagged goes, except images and snapshots tagged imgbuild:complete.
func TestCleanupTags(t *testing.T) {
	c := newCleanupCloud(t)
	s := c.seed("run2")
	if err := os.RemoveAll(c.dir); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := c.cleanup("--tags"); code != exitUsage || !strings.Contains(errOut, "--older-than") {
		t.Errorf("--tags without --older-than: exit %d, want %d", code, exitUsage)
	}
	code, out, _ := c.cleanup("--tags", "--older-than", "2h")
	if code != exitOK || !strings.Contains(out, "found 0 tagged leftovers") {
		t.Errorf("--older-than 2h: exit %d; want nothing found (everything is new)", code)
	}
	c.assertExist(s.all())

	if code, _, _ := c.cleanup("--tags", "--older-than", "0s", "--run", "other-run"); code != exitOK {
		t.Errorf("--run other-run: exit %d", code)
	}
	c.assertExist(s.all())

	if code, _, _ = c.cleanup("--tags", "--older-than", "0s"); code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	c.assertGone(s.tagged())
	c.assertExist(s.kept)
	c.assertComplete(s.unmarked)
	code, out, _ = c.cleanup("--tags", "--older-than", "0s", "--region", "us-east-1", "--region", copyRegion)
	if code != exitOK || !strings.Contains(out, "found 0 tagged leftovers") {
		t.Errorf("second sweep: exit %d, output %q", code, out)
	}
}

// TestCleanupProtectedImage: an image protected with a cooldown cannot be
// removed; cleanup says so, exits 1 and leaves the run open for a retry.
func TestCleanupProtectedImage(t *testing.T) {
	c := newCleanupCloud(t)
	s := c.seed("run3")
	ctx := context.Background()
	if _, err := c.ec2("us-east-1").EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{
		ImageId: aws.String(s.image), WithCooldown: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := c.cleanup()
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	for _, want := range []string{"image " + s.image + " in us-east-1", "protected with cooldown until", "remains", "while its image " + s.image + " remains", "cleanup` again"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	c.assertExist([]res{{"us-east-1", s.image}})
	c.assertGone([]res{{"us-east-1", s.instance}, {copyRegion, s.copy}})
	if runs, _ := journal.List(c.dir); len(runs) != 1 || !runs[0].Orphaned() {
		t.Errorf("a run with leftovers must stay open: %+v", runs)
	}
}

// TestCleanupSkipsLiveRun: a run whose writer holds the journal is not
// touched.
func TestCleanupSkipsLiveRun(t *testing.T) {
	c := newCleanupCloud(t)
	w, err := journal.Create(c.dir, journal.Header{RunID: "live"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	code, out, _ := c.cleanup()
	if code != exitOK || !strings.Contains(out, "run live is still running as pid") {
		t.Errorf("exit %d, output %q", code, out)
	}
	if code, _, errOut := c.cleanup("--run", "live"); code != exitFailed || !strings.Contains(errOut, "in use by pid") {
		t.Errorf("--run live: exit %d, stderr %q", code, errOut)
	}
	// Without --state-dir the journal is beside the template, as for build.
	tmpl := filepath.Join(t.TempDir(), "web.pkr.hcl")
	w2, err := journal.Create(journal.DefaultDir(tmpl), journal.Header{RunID: "beside"})
	must(t, err)
	defer w2.Close()
	if code, out, errOut := c.imgbuild("cleanup", tmpl); code != exitOK || !strings.Contains(out, "run beside is still running") {
		t.Errorf("cleanup TEMPLATE: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, _ := c.cleanup("--run", "nope"); code != exitUsage {
		t.Errorf("--run nope: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := c.cleanup(filepath.Join(c.dir, "a"), "b"); code != exitUsage {
		t.Errorf("two paths: exit %d, want %d", code, exitUsage)
	}
}

// res is one resource by region and ID.
type res struct{ region, id string }

// seeded is what seed created.
type seeded struct {
	instance, intentInstance, sg, key, image, snap, copy, volume string
	copySnaps                                                    []string
	kept                                                         []res // journaled kept: tagged complete, or unmarked
	unmarked                                                     []res // kept, but the crash came before the complete tag
}

// removable is every resource of the run that cleanup must remove.
func (s seeded) removable() []res {
	rs := []res{{"us-east-1", s.instance}, {"us-east-1", s.intentInstance}, {"us-east-1", s.sg},
		{"us-east-1", s.key}, {"us-east-1", s.image}, {"us-east-1", s.snap}, {copyRegion, s.copy}, {"us-east-1", s.volume}}
	for _, id := range s.copySnaps {
		rs = append(rs, res{copyRegion, id})
	}
	return rs
}

func (s seeded) tagged() []res { return s.removable() }
func (s seeded) all() []res    { return append(s.removable(), s.kept...) }

// seed does what a build does up to a crash: it journals and creates a
// security group, a key pair (intent only: the crash came before its ID
// was recorded), two instances (one intent only, found by client token),
// an image and its snapshot, a copy in another region (intent only), a
// volume, a final image (tagged complete and journaled kept) and an
// intent whose create call never happened. It closes the journal without
// ending the run.
func (c *cleanupCloud) seed(runID string) seeded {
	t := c.t
	t.Helper()
	ctx := context.Background()
	w, err := journal.Create(c.dir, journal.Header{RunID: runID, Template: "x.pkr.hcl", Builds: []string{"web", "web-final"}})
	must(t, err)
	tags := map[string]string{"imgbuild:run-id": runID, "imgbuild:build": "web"}
	ec := c.ec2("us-east-1")
	intent := func(typ journal.Type, region, name, token string) journal.Ref {
		ref, err := w.Intent(journal.Resource{Type: typ, Region: region, Build: "web", Name: name, ClientToken: token, Tags: tags})
		must(t, err)
		return ref
	}
	var s seeded
	ref := intent(journal.SecurityGroup, "us-east-1", "imgbuild_"+runID, "")
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("imgbuild_" + runID),
		Description: aws.String("temporary"), TagSpecifications: tagSpec(ec2types.ResourceTypeSecurityGroup, tags)})
	must(t, err)
	s.sg = aws.ToString(sg.GroupId)
	must(t, w.Created(ref, s.sg))

	intent(journal.KeyPair, "us-east-1", "imgbuild_"+runID, "")
	key, err := ec.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("imgbuild_" + runID),
		TagSpecifications: tagSpec(ec2types.ResourceTypeKeyPair, tags)})
	must(t, err)
	s.key = aws.ToString(key.KeyPairId)

	s.instance = c.runInstance(w, intent(journal.Instance, "us-east-1", "", runID+"-1"), runID+"-1", s.sg, tags)
	s.intentInstance = c.runInstance(nil, intent(journal.Instance, "us-east-1", "", runID+"-2"), runID+"-2", s.sg, tags)

	ref = intent(journal.Image, "us-east-1", "web-"+runID, "")
	s.image, s.snap = c.createImage(s.instance, "web-"+runID, tags)
	must(t, w.Created(ref, s.image, journal.Resource{Type: journal.Snapshot, ID: s.snap}))

	intent(journal.Image, copyRegion, "web-"+runID, runID+"-copy")
	cp, err := c.ec2(copyRegion).CopyImage(ctx, &ec2.CopyImageInput{Name: aws.String("web-" + runID),
		SourceImageId: aws.String(s.image), SourceRegion: aws.String("us-east-1"), ClientToken: aws.String(runID + "-copy"),
		TagSpecifications: tagSpec(ec2types.ResourceTypeImage, tags)})
	must(t, err)
	s.copy = aws.ToString(cp.ImageId)
	s.copySnaps = c.imageSnapshots(copyRegion, s.copy)

	ref = intent(journal.Volume, "us-east-1", "", "")
	vol, err := ec.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(1),
		TagSpecifications: tagSpec(ec2types.ResourceTypeVolume, tags)})
	must(t, err)
	s.volume = aws.ToString(vol.VolumeId)
	must(t, w.Created(ref, s.volume))

	// The finished build of the run is another build ("web-final"): a
	// finished build's images are all kept, a crashed build's all removed.
	final := map[string]string{"imgbuild:complete": "2026-01-01T00:00:00Z"}
	for k, v := range tags {
		final[k] = v
	}
	final["imgbuild:build"] = "web-final"
	ref, err = w.Intent(journal.Resource{Type: journal.Image, Region: "us-east-1", Build: "web-final", Name: "final-" + runID, Tags: final})
	must(t, err)
	keptImage, keptSnap := c.createImage(s.instance, "final-"+runID, final)
	must(t, w.Created(ref, keptImage, journal.Resource{Type: journal.Snapshot, ID: keptSnap}))
	must(t, w.Kept(journal.Image, "us-east-1", keptImage))
	s.kept = []res{{"us-east-1", keptImage}, {"us-east-1", keptSnap}}
	// Its copy was committed (journaled kept) but the crash came before
	// the build tagged it complete: cleanup finishes the tagging.
	unmarked := maps.Clone(final)
	delete(unmarked, "imgbuild:complete")
	ref, err = w.Intent(journal.Resource{Type: journal.Image, Region: copyRegion, Build: "web-final", Name: "final-" + runID, Tags: unmarked})
	must(t, err)
	keptCopy, err := c.ec2(copyRegion).CopyImage(ctx, &ec2.CopyImageInput{Name: aws.String("final-" + runID),
		SourceImageId: aws.String(keptImage), SourceRegion: aws.String("us-east-1"),
		TagSpecifications: append(tagSpec(ec2types.ResourceTypeImage, unmarked), tagSpec(ec2types.ResourceTypeSnapshot, unmarked)...)})
	must(t, err)
	s.unmarked = []res{{copyRegion, aws.ToString(keptCopy.ImageId)}}
	must(t, w.Created(ref, aws.ToString(keptCopy.ImageId)))
	must(t, w.Kept(journal.Image, copyRegion, aws.ToString(keptCopy.ImageId)))
	for _, id := range c.imageSnapshots(copyRegion, aws.ToString(keptCopy.ImageId)) {
		must(t, w.Kept(journal.Snapshot, copyRegion, id))
		s.unmarked = append(s.unmarked, res{copyRegion, id})
	}
	s.kept = append(s.kept, s.unmarked...)

	intent(journal.KeyPair, "us-east-1", "never-created", "")
	must(t, w.Close()) // the crash: no end record, lock released
	return s
}

// runInstance launches a tagged instance and journals it as created when w
// is not nil.
func (c *cleanupCloud) runInstance(w *journal.Writer, ref journal.Ref, token, sg string, tags map[string]string) string {
	ctx := context.Background()
	ec := c.ec2("us-east-1")
	base, err := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"amzn*"}}}})
	if err != nil || len(base.Images) == 0 {
		c.t.Fatalf("find a built-in AMI: %v", err)
	}
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: base.Images[0].ImageId, MinCount: aws.Int32(1),
		MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro, ClientToken: aws.String(token),
		SecurityGroupIds: []string{sg}, TagSpecifications: tagSpec(ec2types.ResourceTypeInstance, tags)})
	must(c.t, err)
	id := aws.ToString(run.Instances[0].InstanceId)
	if w != nil {
		must(c.t, w.Created(ref, id))
	}
	return id
}

// createImage images an instance, tagging the image and its snapshot.
func (c *cleanupCloud) createImage(instance, name string, tags map[string]string) (string, string) {
	out, err := c.ec2("us-east-1").CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(instance),
		Name: aws.String(name), TagSpecifications: append(tagSpec(ec2types.ResourceTypeImage, tags),
			tagSpec(ec2types.ResourceTypeSnapshot, tags)...)})
	must(c.t, err)
	id := aws.ToString(out.ImageId)
	snaps := c.imageSnapshots("us-east-1", id)
	if len(snaps) != 1 {
		c.t.Fatalf("image %s has snapshots %v, want one", id, snaps)
	}
	return id, snaps[0]
}

func (c *cleanupCloud) imageSnapshots(region, image string) []string {
	out, err := c.ec2(region).DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{image}})
	must(c.t, err)
	var ids []string
	for _, m := range out.Images[0].BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotId != nil {
			ids = append(ids, *m.Ebs.SnapshotId)
		}
	}
	return ids
}

func tagSpec(typ ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
	spec := ec2types.TagSpecification{ResourceType: typ}
	for k, v := range tags {
		spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return []ec2types.TagSpecification{spec}
}

// exists reports whether a resource is still there (an instance: not
// terminated).
func (c *cleanupCloud) exists(r res) bool {
	ctx, ec := context.Background(), c.ec2(r.region)
	var n int
	var err error
	switch prefix, _, _ := strings.Cut(r.id, "-"); prefix {
	case "i":
		var out *ec2.DescribeInstancesOutput
		if out, err = ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.id}}); err == nil {
			for _, rv := range out.Reservations {
				for _, i := range rv.Instances {
					if i.State.Name != ec2types.InstanceStateNameTerminated {
						n++
					}
				}
			}
		}
	case "sg":
		var out *ec2.DescribeSecurityGroupsOutput
		if out, err = ec.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{r.id}}); err == nil {
			n = len(out.SecurityGroups)
		}
	case "key":
		var out *ec2.DescribeKeyPairsOutput
		if out, err = ec.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyPairIds: []string{r.id}}); err == nil {
			n = len(out.KeyPairs)
		}
	case "ami":
		var out *ec2.DescribeImagesOutput
		if out, err = ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{r.id}}); err == nil {
			n = len(out.Images)
		}
	case "snap":
		var out *ec2.DescribeSnapshotsOutput
		if out, err = ec.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{r.id}}); err == nil {
			n = len(out.Snapshots)
		}
	case "vol":
		var out *ec2.DescribeVolumesOutput
		if out, err = ec.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{r.id}}); err == nil {
			n = len(out.Volumes)
		}
	default:
		c.t.Fatalf("unknown resource %s", r.id)
	}
	if err != nil && !strings.Contains(err.Error(), "NotFound") {
		c.t.Fatalf("describe %s in %s: %v", r.id, r.region, err)
	}
	return n > 0
}

func (c *cleanupCloud) assertGone(rs []res) {
	c.t.Helper()
	for _, r := range rs {
		if c.exists(r) {
			c.t.Errorf("%s in %s still exists", r.id, r.region)
		}
	}
}

func (c *cleanupCloud) assertExist(rs []res) {
	c.t.Helper()
	for _, r := range rs {
		if !c.exists(r) {
			c.t.Errorf("%s in %s is gone, want it kept", r.id, r.region)
		}
	}
}

// assertComplete checks that every one of rs is tagged imgbuild:complete.
func (c *cleanupCloud) assertComplete(rs []res) {
	c.t.Helper()
	for _, r := range rs {
		out, err := c.ec2(r.region).DescribeTags(context.Background(), &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
			{Name: aws.String("resource-id"), Values: []string{r.id}}, {Name: aws.String("key"), Values: []string{"imgbuild:complete"}}}})
		must(c.t, err)
		if len(out.Tags) == 0 {
			c.t.Errorf("%s in %s is not tagged imgbuild:complete", r.id, r.region)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

package steps

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// makeTaggedImage runs makeImage for ami-2 (snapshot snap-2), asking for
// image and snapshot tags.
func makeTaggedImage(t *testing.T, f *fakeEC2) *build {
	t.Helper()
	b := fakeBuild(t, f, testConfig())
	err := b.makeImage(context.Background(), imageCall{what: "create image", region: "us-east-1", name: "img",
		tags: map[string]string{"Name": "web", "imgbuild:run-id": "r1"}, snapTags: map[string]string{"Kind": "root", "imgbuild:run-id": "r1"},
		create: func(context.Context) (string, error) { return "ami-2", nil }}, &b.st.built)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDroppedTagsAreApplied(t *testing.T) {
	f := newFakeEC2()
	f.images["ami-2"] = &fakeImage{state: "available", snapshots: []string{"snap-2"}, tags: map[string]string{"Name": "web"}}
	makeTaggedImage(t, f)
	if got := f.images["ami-2"].tags; got["imgbuild:run-id"] != "r1" || got["Name"] != "web" {
		t.Errorf("image tags %v: the dropped run tag was not applied", got)
	}
	if got := f.snapTags["snap-2"]; got["Kind"] != "root" || got["imgbuild:run-id"] != "r1" {
		t.Errorf("snapshot tags %v: the dropped tags were not applied", got)
	}
	if n := len(f.callsTo("DescribeSnapshots")); n != 1 {
		t.Errorf("%d DescribeSnapshots, want 1", n)
	}
	if n := len(f.callsTo("CreateTags")); n != 2 {
		t.Errorf("%d CreateTags, want 2 (image, snapshot)", n)
	}
	if w := strings.Join(f.said, "\n"); !strings.Contains(w, "warning: the endpoint dropped the tags imgbuild:run-id of image ami-2") ||
		!strings.Contains(w, "warning: the endpoint dropped the tags Kind, imgbuild:run-id of snapshot snap-2") {
		t.Errorf("no warnings naming the dropped tags:\n%s", w)
	}
}

func TestKeptTagsCostNoCall(t *testing.T) {
	f := newFakeEC2()
	f.images["ami-2"] = &fakeImage{state: "available", snapshots: []string{"snap-2"},
		tags: map[string]string{"Name": "web", "imgbuild:run-id": "r1"}}
	f.snapTags["snap-2"] = map[string]string{"Kind": "root", "imgbuild:run-id": "r1"}
	makeTaggedImage(t, f)
	if n := len(f.callsTo("CreateTags")); n != 0 {
		t.Errorf("%d CreateTags for tags that were all there", n)
	}
	if n := len(f.callsTo("DescribeImages")); n != 1 {
		t.Errorf("%d DescribeImages, want the waiter's one", n)
	}
}

func TestDroppedLaunchPermissionsAreApplied(t *testing.T) {
	for _, drop := range []int{0, 1} {
		t.Run(fmt.Sprint("dropped ", drop), func(t *testing.T) {
			f := newFakeEC2()
			f.images["ami-3"] = &fakeImage{state: "available", tags: map[string]string{}}
			f.dropPerms = drop
			cfg := testConfig()
			cfg.AMIUsers, cfg.AMIGroups = []string{"123456789012"}, []string{"all"}
			b := fakeBuild(t, f, cfg)
			n := &finalizeRegion{b: b, region: "us-east-1"}
			if err := n.share(context.Background(), &imageRecord{Region: "us-east-1", ID: "ami-3"}); err != nil {
				t.Fatal(err)
			}
			if got := f.images["ami-3"].perms; fmt.Sprint(got) != "[userId=123456789012 group=all]" {
				t.Errorf("launch permissions %v", got)
			}
			if got, want := len(f.callsTo("ModifyImageAttribute")), 1+drop; got != want {
				t.Errorf("%d ModifyImageAttribute, want %d", got, want)
			}
			warned := strings.Contains(strings.Join(f.said, "\n"), "warning: the endpoint dropped the launch permissions user 123456789012, group all")
			if warned != (drop > 0) {
				t.Errorf("warning %v, want %v: %v", warned, drop > 0, f.said)
			}
		})
	}
}

func TestPermissionKey(t *testing.T) {
	for p, want := range map[*types.LaunchPermission]string{
		{UserId: aws.String("1")}:                     "user 1",
		{Group: types.PermissionGroupAll}:             "group all",
		{OrganizationArn: aws.String("arn:o")}:        "organization arn:o",
		{OrganizationalUnitArn: aws.String("arn:ou")}: "organizational unit arn:ou",
	} {
		if got := permissionKey(*p); got != want {
			t.Errorf("permissionKey = %q, want %q", got, want)
		}
	}
}

// The snapshots the image wait described in its last tick are checked as
// they are: no DescribeSnapshots, and what they lack is applied.
func TestSnapshotsTheWaitSawCostNoDescribe(t *testing.T) {
	f := newFakeEC2()
	b := fakeBuild(t, f, testConfig())
	rec := &imageRecord{Region: "us-east-1", ID: "ami-2", Snapshots: []string{"snap-2"}}
	rec.image.Tags = ec2Tags(map[string]string{"Name": "web"})
	rec.image.Snapshots = []types.Snapshot{{SnapshotId: aws.String("snap-2"), Tags: ec2Tags(map[string]string{"Kind": "root"})}}
	if err := b.checkTags(context.Background(), rec, map[string]string{"Name": "web"},
		map[string]string{"Kind": "root", "imgbuild:run-id": "r1"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.callsTo("DescribeSnapshots")); n != 0 {
		t.Errorf("%d DescribeSnapshots, want none: the wait's tick had them", n)
	}
	if got := f.snapTags["snap-2"]; got["imgbuild:run-id"] != "r1" {
		t.Errorf("snapshot tags %v: the dropped run tag was not applied", got)
	}
	// A snapshot the tick did not see is described.
	rec.Snapshots = append(rec.Snapshots, "snap-3")
	if err := b.checkTags(context.Background(), rec, nil, map[string]string{"Kind": "root"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.callsTo("DescribeSnapshots")); n != 1 {
		t.Errorf("%d DescribeSnapshots, want 1 for a snapshot the wait did not see", n)
	}
}

// A snapshot's intent carries its ID, known before the record, so that a
// kill between the intent and the created record leaves an intent that
// cleanup resolves by that ID.
func TestSnapshotIntentCarriesItsID(t *testing.T) {
	f := newFakeEC2()
	f.images["ami-2"] = &fakeImage{state: "available", snapshots: []string{"snap-2"}, tags: map[string]string{}}
	b := makeTaggedImage(t, f)
	data, err := os.ReadFile(b.env.Journal.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, `"kind":"intent"`) && strings.Contains(line, `"type":"snapshot"`) {
			if !strings.Contains(line, `"id":"snap-2"`) {
				t.Errorf("snapshot intent without its ID: %s", line)
			}
			return
		}
	}
	t.Fatalf("no snapshot intent in the journal:\n%s", data)
}

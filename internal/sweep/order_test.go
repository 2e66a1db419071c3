package sweep

import (
	"slices"
	"testing"
	"time"

	"github.com/imgbuild/imgbuild/internal/journal"
)

func res(typ journal.Type, region, id, run string) journal.Resource {
	return journal.Resource{Type: typ, Region: region, ID: id, Tags: map[string]string{tagRunID: run}}
}

func ids(rs []journal.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestOrderPutsUsersFirst(t *testing.T) {
	rs := []journal.Resource{
		res(journal.Snapshot, "r", "snap-1", "a"), res(journal.Volume, "r", "vol-1", "a"),
		res("iam-role", "r", "role-1", "a"), res(journal.KeyPair, "r", "key-1", "a"),
		res(journal.Image, "r", "ami-1", "a"), res(journal.SecurityGroup, "r", "sg-1", "a"),
		res(journal.Instance, "r", "i-1", "a"), res(journal.Instance, "r", "i-2", "a"),
		res(journal.BucketObject, "r", "b/k", "a"),
	}
	Order(rs)
	want := []string{"i-1", "i-2", "sg-1", "key-1", "ami-1", "snap-1", "vol-1", "b/k", "role-1"}
	if got := ids(rs); !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

func TestByRegionKeepsOrderWithinRegion(t *testing.T) {
	rs := []journal.Resource{
		res(journal.Instance, "us-east-1", "i-1", "a"), res(journal.Image, "eu-west-1", "ami-2", "a"),
		res(journal.SecurityGroup, "us-east-1", "sg-1", "a"), res(journal.Snapshot, "eu-west-1", "snap-2", "a"),
	}
	groups := byRegion(rs)
	if len(groups) != 2 || !slices.Equal(ids(groups[0]), []string{"i-1", "sg-1"}) || !slices.Equal(ids(groups[1]), []string{"ami-2", "snap-2"}) {
		t.Errorf("groups %v", groups)
	}
}

// TestSelectOldSecurityGroupAge checks the age guard of tag sweeps: a
// security group has no creation time, so it is as old as the oldest other
// resource of its run; alone, it goes only with a zero guard.
func TestSelectOldSecurityGroupAge(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(r journal.Resource, age time.Duration) found { return found{res: r, created: now.Add(-age)} }
	sg := func(id, run string) found { return found{res: res(journal.SecurityGroup, "r", id, run)} }
	all := []found{
		at(res(journal.Instance, "r", "i-old", "old"), 3*time.Hour),
		at(res(journal.KeyPair, "r", "key-old", "old"), time.Hour), // newer than the instance
		sg("sg-old", "old"),
		at(res(journal.Instance, "r", "i-new", "new"), 10*time.Minute),
		sg("sg-new", "new"),
		sg("sg-alone", "alone"),
	}
	tests := []struct {
		olderThan time.Duration
		want      []string
	}{
		{2 * time.Hour, []string{"i-old", "sg-old"}},
		{30 * time.Minute, []string{"i-old", "key-old", "sg-old"}},
		{5 * time.Minute, []string{"i-old", "key-old", "sg-old", "i-new", "sg-new"}},
		{0, []string{"i-old", "key-old", "sg-old", "i-new", "sg-new", "sg-alone"}},
	}
	for _, tt := range tests {
		t.Run(tt.olderThan.String(), func(t *testing.T) {
			if got := ids(selectOld(all, tt.olderThan, now)); !slices.Equal(got, tt.want) {
				t.Errorf("selectOld(%s) = %v, want %v", tt.olderThan, got, tt.want)
			}
		})
	}
}

func TestUntilIn(t *testing.T) {
	want := time.Date(2026, 5, 18, 12, 34, 56, 0, time.UTC)
	for _, s := range []string{"disabled until 2026-05-18T12:34:56Z", "disabled-until-2026-05-18T12:34:56Z"} {
		if got := untilIn(s); !got.Equal(want) {
			t.Errorf("untilIn(%q) = %v, want %v", s, got, want)
		}
	}
	if got := untilIn("enabled-with-cooldown"); !got.IsZero() {
		t.Errorf("untilIn without a time = %v", got)
	}
}

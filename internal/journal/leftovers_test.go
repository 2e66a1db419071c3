package journal

import "testing"

func TestLeftovers(t *testing.T) {
	type op func(t *testing.T, w *Writer)
	create := func(typ Type, region, id string, extra ...Resource) op {
		return func(t *testing.T, w *Writer) {
			must(t, w.Created(mustIntent(t, w, Resource{Type: typ, Region: region}), id, extra...))
		}
	}
	intend := func(typ Type, token string) op {
		return func(t *testing.T, w *Writer) { mustIntent(t, w, Resource{Type: typ, Region: "r1", ClientToken: token}) }
	}
	deleted := func(typ Type, id string) op {
		return func(t *testing.T, w *Writer) { must(t, w.Deleted(typ, "r1", id)) }
	}
	kept := func(typ Type, region, id string) op {
		return func(t *testing.T, w *Writer) { must(t, w.Kept(typ, region, id)) }
	}
	snaps := func(ids ...string) []Resource {
		var rs []Resource
		for _, id := range ids {
			rs = append(rs, Resource{Type: Snapshot, ID: id})
		}
		return rs
	}
	tests := []struct {
		name string
		ops  []op
		want string
	}{
		{"cleanup order by type, newest first", []op{
			create(BucketObject, "r1", "b/part.0"), create(Volume, "r1", "vol-1"), create(KeyPair, "r1", "key-1"),
			create(SecurityGroup, "r1", "sg-1"), create(Instance, "r1", "i-1"), create(Snapshot, "r1", "snap-9"),
			create(Image, "r1", "ami-1", snaps("snap-1", "snap-2")...), create(Instance, "r1", "i-2"), create("iam-role", "r1", "role-1"),
		}, "instance:i-2 instance:i-1 security-group:sg-1 key-pair:key-1 image:ami-1 snapshot:snap-2 snapshot:snap-1 " +
			"snapshot:snap-9 volume:vol-1 bucket-object:b/part.0 iam-role:role-1"},
		{"intents without ID included", []op{intend(Instance, "tok-1"), create(KeyPair, "r1", "key-1"), intend(Image, "tok-2")},
			"instance:tok-1 key-pair:key-1 image:tok-2"},
		{"deleted and not-created excluded", []op{create(Instance, "r1", "i-1"), create(KeyPair, "r1", "key-1"),
			deleted(Instance, "i-1"), func(t *testing.T, w *Writer) { must(t, w.NotCreated(mustIntent(t, w, web))) }},
			"key-pair:key-1"},
		{"kept image and snapshots excluded, in every region", []op{
			create(Image, "r1", "ami-1", snaps("snap-1")...), create(Image, "r2", "ami-2", snaps("snap-2")...),
			kept(Image, "r1", "ami-1"), kept(Snapshot, "r1", "snap-1"), kept(Image, "r2", "ami-2"), kept(Snapshot, "r2", "snap-2"),
		}, ""},
		{"snapshots of a kept image never leftovers", []op{create(Image, "r1", "ami-1", snaps("snap-1")...), kept(Image, "r1", "ami-1")}, ""},
		{"same ID kept in one region, leftover in another", []op{
			create(Image, "r1", "ami-1", snaps("snap-1")...), create(Image, "r2", "ami-1", snaps("snap-1")...), kept(Image, "r1", "ami-1"),
		}, "image:ami-1 snapshot:snap-1"},
		{"snapshots of a deleted image still leftovers", []op{create(Image, "r1", "ami-1", snaps("snap-1")...), deleted(Image, "ami-1")},
			"snapshot:snap-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, w := createRun(t, "leftovers")
			for _, op := range tt.ops {
				op(t, w)
			}
			if got := ids(mustRead(t, w.Path()).Leftovers()); got != tt.want {
				t.Errorf("Leftovers:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

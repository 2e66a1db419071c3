package steps

import (
	"context"
	"testing"

	"github.com/imgbuild/imgbuild/internal/journal"
)

// TestSnapshotsJournaledBeforeTheImageIsAvailable: the snapshots a pending
// image lists are in the journal while the wait goes on, so a killed run's
// cleanup finds them.
func TestSnapshotsJournaledBeforeTheImageIsAvailable(t *testing.T) {
	f := newFakeEC2()
	f.images["ami-1"] = &fakeImage{state: "pending", snapshots: []string{"snap-1"}, tags: map[string]string{}}
	b := fakeBuild(t, f, testConfig())
	journaled := make(chan bool, 1)
	f.describeHook = func(n int, img *fakeImage) {
		if n < 3 {
			return
		}
		run, err := journal.Read(b.env.Journal.Path())
		if err != nil {
			t.Error(err)
		}
		found := false
		for _, r := range run.Resources {
			found = found || r.Type == journal.Snapshot && r.ID == "snap-1" && r.Parent == "ami-1"
		}
		select {
		case journaled <- found:
		default:
		}
		img.state = "available"
	}
	rec := &b.st.built
	err := b.makeImage(context.Background(), imageCall{what: "create image", region: "us-east-1", name: "img",
		create: func(context.Context) (string, error) { return "ami-1", nil }}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !<-journaled {
		t.Error("snapshot snap-1 of the pending image was not journaled before the image was available")
	}
	if len(rec.Snapshots) != 1 || rec.Snapshots[0] != "snap-1" {
		t.Errorf("snapshots %v, want [snap-1]", rec.Snapshots)
	}
}

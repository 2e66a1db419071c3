package sweep

import (
	"slices"
	"testing"

	"github.com/imgbuild/imgbuild/internal/journal"
)

// TestDropFinished checks that a tag sweep leaves alone every image and
// snapshot of a build that tagged any of its images complete (a crash
// while tagging leaves only some tagged), and nothing else.
func TestDropFinished(t *testing.T) {
	tagged := func(typ journal.Type, id, run, build string, complete bool) found {
		r := res(typ, "r", id, run)
		r.Tags[tagBuild] = build
		if complete {
			r.Tags[tagComplete] = "2026-05-01T12:00:00Z"
		}
		return found{res: r}
	}
	tests := []struct {
		name string
		all  []found
		want []string
	}{
		{"unfinished build", []found{
			tagged(journal.Image, "ami-1", "a", "web", false), tagged(journal.Snapshot, "snap-1", "a", "web", false),
		}, []string{"ami-1", "snap-1"}},
		{"partly tagged build", []found{
			tagged(journal.Instance, "i-1", "a", "web", false),
			tagged(journal.Image, "ami-1", "a", "web", true), tagged(journal.Snapshot, "snap-1", "a", "web", true),
			tagged(journal.Image, "ami-2", "a", "web", false), tagged(journal.Snapshot, "snap-2", "a", "web", false),
		}, []string{"i-1"}},
		{"other build and run untouched", []found{
			tagged(journal.Image, "ami-1", "a", "web", true),
			tagged(journal.Image, "ami-2", "a", "db", false), tagged(journal.Image, "ami-3", "b", "web", false),
		}, []string{"ami-2", "ami-3"}},
		{"complete snapshot alone", []found{
			tagged(journal.Snapshot, "snap-1", "a", "web", true), tagged(journal.Snapshot, "snap-2", "a", "web", false),
		}, []string{"snap-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, dropped []string
			rest, output := dropFinished(tt.all)
			for _, f := range rest {
				got = append(got, f.res.ID)
			}
			for _, f := range output {
				dropped = append(dropped, f.res.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("dropFinished = %v, want %v", got, tt.want)
			}
			if len(got)+len(dropped) != len(tt.all) || slices.ContainsFunc(dropped, func(id string) bool { return slices.Contains(got, id) }) {
				t.Errorf("dropFinished split %d into %v and %v", len(tt.all), got, dropped)
			}
		})
	}
}

package registry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeListsRefusedSettings: the README section "Settings not
// implemented yet" names every setting validate refuses, so the list a
// user reads is the one the code enforces.
func TestReadmeListsRefusedSettings(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n### Settings not implemented yet\n")
	if !ok {
		t.Fatal(`README.md has no "### Settings not implemented yet" section`)
	}
	if end := strings.Index(section, "\n#"); end >= 0 {
		section = section[:end]
	}
	section = strings.Join(strings.Fields(section), " ") // names may wrap
	var names []string
	for _, table := range fieldUses {
		for path, u := range table {
			if u.refused != "" {
				names = append(names, path)
			}
		}
	}
	for _, name := range refusedComponents {
		names = append(names, name)
	}
	for _, v := range refusedValues {
		names = append(names, v.name)
	}
	names = append(names, refusedInTemplate...)
	for _, name := range names {
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("README section \"Settings not implemented yet\" does not list `%s`", name)
		}
	}
}

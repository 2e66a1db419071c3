package main

import (
	"fmt"

	"github.com/agext/levenshtein"
)

func suggestCommand(name string) string {
	best, bestDist := "", 3
	for n := range commands {
		if d := levenshtein.Distance(name, n, nil); d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

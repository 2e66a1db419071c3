// Command gen writes the hcldec spec files of package hcl2spec. It runs
// from "go generate ./hcl2spec", in the hcl2spec directory.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imgbuild/imgbuild/hcl2spec/internal/specgen"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := run(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	for _, t := range specgen.Targets() {
		src, err := specgen.Generate(t)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, t.File), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

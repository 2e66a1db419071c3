package main

import (
	"flag"
	"fmt"
	"strings"
)

// newFlagSet returns a flag set for a command that prints the command's
// usage and never exits the process.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("imgbuild "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		c := commands[name]
		fmt.Fprintf(fs.Output(), "Usage: imgbuild %s\n\n%s\n", c.usage, c.synopsis)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(fs.Output(), "\nOptions:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args and reports whether the command should go on; when
// it should not, code is the exit code (0 for --help).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

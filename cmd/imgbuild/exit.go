package main

import (
	"context"
	"errors"
)

// Exit codes, in one place.
const (
	exitOK          = 0   // success
	exitFailed      = 1   // a build (or cleanup) failed
	exitUsage       = 2   // bad flags or an invalid template
	exitInterrupted = 130 // stopped by SIGINT/SIGTERM
)

// exitCodeFor maps an error from a command's work to an exit code.
func exitCodeFor(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	default:
		return exitFailed
	}
}

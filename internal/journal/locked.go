package journal

import (
	"errors"
	"fmt"
	"time"
)

// ErrLocked is matched (errors.Is) by the error Create and Resume return
// when another process holds the run.
var ErrLocked = errors.New("run is locked by another process")

// LockedError says which process holds a run. PID is 0 when the run file
// could not be read to find out.
type LockedError struct {
	RunID    string
	Path     string
	PID      int
	Hostname string
	Since    time.Time
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("run %s is in use by another process (%s is locked)", e.RunID, e.Path)
	}
	return fmt.Sprintf("run %s is in use by pid %d on %s since %s (%s is locked)",
		e.RunID, e.PID, e.Hostname, e.Since.Format(time.RFC3339), e.Path)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// lockedError reads the run to name the process holding it.
func lockedError(path, runID string) error {
	e := &LockedError{RunID: runID, Path: path}
	if run, err := Read(path); err == nil {
		h := run.holder()
		e.PID, e.Hostname, e.Since = h.PID, h.Hostname, h.Started
	}
	return e
}

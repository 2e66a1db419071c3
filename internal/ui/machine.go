package ui

import (
	"fmt"
	"strings"
	"time"
)

// SetMachineReadable switches the UI to Packer's machine-readable form:
// every line is "timestamp,target,type,data..." with commas in data
// escaped as "%!(PACKER_COMMA)", newlines as "\n".
func (u *UI) SetMachineReadable(on bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.machine = on
}

// MachineReadable reports whether the UI is in machine-readable mode.
func (u *UI) MachineReadable() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.machine
}

// Event prints one machine-readable event (only in machine-readable mode).
func (u *UI) Event(target, typ string, data ...string) {
	if !u.MachineReadable() {
		return
	}
	u.write(u.out, machineLine(time.Now(), target, typ, u.masker.Mask, data))
}

// machineLine renders one event as Packer does: the UTC Unix time, target,
// type and data, commas in data as "%!(PACKER_COMMA)", carriage returns
// and newlines as "\r" and "\n".
func machineLine(now time.Time, target, typ string, mask func(string) string, data []string) string {
	fields := []string{fmt.Sprint(now.UTC().Unix()), target, typ}
	for _, d := range data {
		d = strings.ReplaceAll(mask(d), ",", "%!(PACKER_COMMA)")
		d = strings.ReplaceAll(d, "\r", "\\r")
		d = strings.ReplaceAll(d, "\n", "\\n")
		fields = append(fields, d)
	}
	return strings.Join(fields, ",")
}

// ArtifactEvents prints Packer's machine-readable artifact lines for a
// build's artifact number i: builder-id, id, string, files-count (0:
// images have no local files) and end.
func (u *UI) ArtifactEvents(target string, i int, builderID, id, str string) {
	n := fmt.Sprint(i)
	u.Event(target, "artifact", n, "builder-id", builderID)
	u.Event(target, "artifact", n, "id", id)
	u.Event(target, "artifact", n, "string", str)
	u.Event(target, "artifact", n, "files-count", "0")
	u.Event(target, "artifact", n, "end")
}

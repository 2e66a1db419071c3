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
	fields := []string{fmt.Sprint(time.Now().Unix()), target, typ}
	for _, d := range data {
		d = strings.ReplaceAll(u.masker.Mask(d), ",", "%!(PACKER_COMMA)")
		d = strings.ReplaceAll(d, "\n", "\\n")
		fields = append(fields, d)
	}
	u.write(u.out, strings.Join(fields, ","))
}

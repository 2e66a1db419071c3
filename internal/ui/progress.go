package ui

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Plain progress lines are printed for a task when its percentage crosses
// a ProgressStep boundary, or when it changed and ProgressInterval has
// passed since its last line.
const (
	ProgressStep     = 25
	ProgressInterval = 10 * time.Second
)

// Progress shows how far long operations are (image creation, copies),
// one task per build and operation, e.g. "copy to eu-west-1": live bars
// when the output is a terminal, otherwise plain lines
// "==> build.source: copy to eu-west-1: 45%". Everything it shows is
// masked. It is safe for concurrent use; Close it when the run ends.
type Progress struct {
	u     *UI
	mu    sync.Mutex
	tasks map[taskKey]*task
	bars  *mpb.Progress // nil for plain lines
}

type taskKey struct{ prefix, name string }

type task struct {
	printed   int // the last percentage printed, -1 for none
	printedAt time.Time
	bar       *mpb.Bar
}

// IsTerminal reports whether w is a terminal, the condition for live bars.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// NewProgress returns a progress display on u's output: live bars when
// terminal is set (pass IsTerminal(u.Out())) and u is not machine-readable,
// plain lines otherwise. While bars are live, the UI's other lines print
// above them.
func (u *UI) NewProgress(terminal bool) *Progress {
	p := &Progress{u: u, tasks: map[taskKey]*task{}}
	if terminal && !u.MachineReadable() {
		p.bars = mpb.New(mpb.WithOutput(u.out), mpb.WithAutoRefresh(), mpb.WithWidth(100))
		u.setAbove(p.bars)
	}
	return p
}

// Report sets task name of the build prefix to pct percent (0-100).
func (p *Progress) Report(prefix, name string, pct int) {
	pct = min(max(pct, 0), 100)
	p.mu.Lock()
	defer p.mu.Unlock()
	k := taskKey{prefix, name}
	t := p.tasks[k]
	if t == nil {
		t = &task{printed: -1}
		p.tasks[k] = t
		if p.bars != nil {
			label := p.u.masker.Mask(prefix + ": " + name)
			t.bar = p.bars.AddBar(100, mpb.BarRemoveOnComplete(),
				mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
				mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace)))
		}
	}
	if t.bar != nil {
		t.bar.SetCurrent(int64(pct))
		return
	}
	if t.due(pct, time.Now()) {
		t.printed, t.printedAt = pct, time.Now()
		p.u.Sayf(prefix, "%s: %d%%", name, pct)
	}
}

// due reports whether pct deserves a plain line now.
func (t *task) due(pct int, now time.Time) bool {
	switch {
	case pct == t.printed:
		return false
	case t.printed < 0 || pct/ProgressStep != t.printed/ProgressStep:
		return true
	}
	return now.Sub(t.printedAt) >= ProgressInterval
}

// Done ends task name of the build prefix, finished or not: its bar goes.
func (p *Progress) Done(prefix, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := taskKey{prefix, name}
	if t := p.tasks[k]; t != nil && t.bar != nil && !t.bar.Completed() {
		t.bar.Abort(true)
	}
	delete(p.tasks, k)
}

// Close removes the bars left and returns when they are gone; later lines
// of the UI print normally again.
func (p *Progress) Close() {
	p.mu.Lock()
	for k, t := range p.tasks {
		if t.bar != nil && !t.bar.Completed() {
			t.bar.Abort(true)
		}
		delete(p.tasks, k)
	}
	p.mu.Unlock()
	if p.bars != nil {
		p.u.setAbove(nil)
		p.bars.Wait()
	}
}

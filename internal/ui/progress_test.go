package ui

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestProgressPlainLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		u := New(&out, &out)
		u.Masker().Add("s3cr3t")
		p := u.NewProgress(false)
		report := func(after time.Duration, name string, pct int) {
			time.Sleep(after)
			p.Report("b.s3cr3t", name, pct)
		}
		report(0, "copy to eu-west-1", 0)               // first report: printed
		report(2*time.Second, "copy to eu-west-1", 5)   // too soon, same step
		report(0, "copy to us-east-1", 3)               // another task: printed
		report(3*time.Second, "copy to eu-west-1", 26)  // new 25% step
		report(5*time.Second, "copy to eu-west-1", 30)  // 5s after the last line
		report(10*time.Second, "copy to eu-west-1", 30) // 15s after the last line: printed
		report(0, "copy to eu-west-1", 31)              // too soon again
		report(time.Second, "copy to eu-west-1", 100)
		report(20*time.Second, "copy to eu-west-1", 100)
		p.Done("b.s3cr3t", "copy to eu-west-1")
		p.Close()
		want := strings.Join([]string{
			"==> b.<sensitive>: copy to eu-west-1: 0%",
			"==> b.<sensitive>: copy to us-east-1: 3%",
			"==> b.<sensitive>: copy to eu-west-1: 26%",
			"==> b.<sensitive>: copy to eu-west-1: 30%",
			"==> b.<sensitive>: copy to eu-west-1: 100%",
		}, "\n") + "\n"
		if out.String() != want {
			t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
		}
	})
}

func TestProgressBarsOnTerminal(t *testing.T) {
	var out bytes.Buffer
	u := New(&out, &out)
	p := u.NewProgress(true)
	p.Report("b.s", "copy to eu-west-1", 45)
	u.Sayf("b.s", "copy to eu-west-1: ami-1 pending")
	time.Sleep(300 * time.Millisecond) // a refresh or two
	p.Report("b.s", "copy to eu-west-1", 100)
	p.Report("b.s", "image", 10)
	p.Done("b.s", "image")
	p.Close()
	u.Sayf("b.s", "after")
	got := out.String()
	for _, want := range []string{"b.s: copy to eu-west-1", "45 %", "==> b.s: copy to eu-west-1: ami-1 pending\n", "==> b.s: after\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%q", want, got)
		}
	}
	if strings.Contains(got, "eu-west-1: 45%") {
		t.Errorf("plain lines printed while bars are live:\n%q", got)
	}
}

func TestProgressMachineReadableIsPlain(t *testing.T) {
	var out bytes.Buffer
	u := New(&out, &out)
	u.SetMachineReadable(true)
	p := u.NewProgress(true)
	p.Report("b.s", "copy to eu-west-1", 50)
	p.Close()
	if !strings.Contains(out.String(), ",b.s,ui,say,copy to eu-west-1: 50%") {
		t.Errorf("output %q", out.String())
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

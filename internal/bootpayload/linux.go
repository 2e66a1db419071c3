package bootpayload

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/imgbuild/imgbuild/internal/check"
	"github.com/imgbuild/imgbuild/provisioners/file"
	"github.com/imgbuild/imgbuild/provisioners/script"
	"github.com/imgbuild/imgbuild/provisioners/shell"
)

// heredoc ends every base64 block; base64 never contains "_".
const heredoc = "IMGBUILD_EOF"

// linux renders a shell script for cloud-init.
type linux struct{ b bytes.Buffer }

func (w *linux) len() int    { return w.b.Len() }
func (w *linux) end() []byte { return w.b.Bytes() }

func (w *linux) begin(t Target) {
	fmt.Fprintf(&w.b, "#!/bin/sh\n# imgbuild boot payload of %s (strategy %s): the provisioners not baked into\n", t.BuildName, t.Strategy)
	w.b.WriteString("# its image, in order. cloud-init runs it once, as root, at first boot.\nset -eu\n")
	w.b.WriteString("d=$(mktemp -d /tmp/imgbuild-payload.XXXXXX)\ntrap 'rm -rf \"$d\"' EXIT\n")
	w.b.WriteString("fail() { echo \"imgbuild boot payload: $1\" >&2; exit 1; }\n")
}

func (w *linux) part(t Target, n int, p Part) error {
	fmt.Fprintf(&w.b, "\n# %d: %s\necho %s\n", n, p.label(), shQuote("imgbuild boot payload: "+p.label()))
	if p.PauseBefore > 0 {
		fmt.Fprintf(&w.b, "sleep %d\n", int(math.Ceil(p.PauseBefore.Seconds())))
	}
	switch c := p.Config.(type) {
	case *shell.Config:
		if err := w.shell(t, n, p, c); err != nil {
			return err
		}
		if d := check.DurationValue(c.PauseAfter); d > 0 {
			fmt.Fprintf(&w.b, "sleep %d\n", int(math.Ceil(d.Seconds())))
		}
		return nil
	case *file.Config:
		entries, err := fileEntries(t.BaseDir, c, false)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if dir := parent(e.dst); dir != "/" {
				fmt.Fprintf(&w.b, "mkdir -p %s\n", shQuote(dir))
			}
			w.data(shQuote(e.dst), e.data)
			fmt.Fprintf(&w.b, "chmod %04o %s\n", e.mode, shQuote(e.dst))
		}
		return nil
	default:
		return fmt.Errorf("cannot be deferred to a Linux boot payload")
	}
}

// shell writes each script to a file and runs it with the environment.
func (w *linux) shell(t Target, n int, p Part, c *shell.Config) error {
	bodies, err := scripts(t.BaseDir, c.Source, func(lines []string) string {
		return script.InlineScript(c.InlineShebang, lines)
	}, !c.Binary)
	if err != nil {
		return err
	}
	var env strings.Builder
	for _, v := range c.Env.Vars(t.BuildName, t.BuilderType) {
		fmt.Fprintf(&env, "export %s=%s; ", v.Name, shQuote(v.Value))
	}
	codes := make([]string, len(c.ValidExitCodes))
	for i, code := range c.ValidExitCodes {
		codes[i] = strconv.Itoa(code)
	}
	for i, body := range bodies {
		f := fmt.Sprintf(`"$d/%d-%d"`, n, i+1)
		fmt.Fprintf(&w.b, "# %s\n", scriptName(c.Source, i, t.BaseDir))
		w.data(f, body)
		fmt.Fprintf(&w.b, "chmod 0700 %s\nrc=0\n(%sexec %s) || rc=$?\n", f, env.String(), f)
		fmt.Fprintf(&w.b, "case $rc in %s) ;; *) fail %s;; esac\n", strings.Join(codes, "|"),
			shQuote(fmt.Sprintf("%s script %d exited with ", p.label(), i+1))+`"$rc"`)
	}
	return nil
}

// data writes data to the file dst (a shell word) through base64.
func (w *linux) data(dst string, data []byte) {
	fmt.Fprintf(&w.b, "base64 -d > %s <<'%s'\n", dst, heredoc)
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	if enc != "" {
		w.b.WriteString(enc + "\n")
	}
	w.b.WriteString(heredoc + "\n")
}

// shQuote quotes s as one POSIX shell word.
func shQuote(s string) string { return "'" + script.QuoteSingle(s) + "'" }

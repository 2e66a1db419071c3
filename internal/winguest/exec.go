package winguest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
	"github.com/imgbuild/imgbuild/internal/wsman"
)

// maxDepth bounds scripts running scripts (and elevated commands).
const maxDepth = 4

// Exec answers one command of a WinRM shell; it is the machine's
// wsman.Executor. The guest does not run anything: it recognises the
// command's shape (see the package documentation), does what that shape
// means on its disk, writes the output the shape expects, records the
// command in the guest log and returns its exit code.
func (m *Machine) Exec(ctx context.Context, cmd *wsman.Command) int {
	r := &run{m: m, ctx: ctx, stdout: orDiscard(cmd.Stdout), stderr: orDiscard(cmd.Stderr)}
	code := r.line(cmd.Line, cmd.User, 0)
	m.record(r.events...)
	m.schedule(r.effect)
	return code
}

// run is the handling of one command: the events it records (written
// when it is done, in order) and the power effect it has.
type run struct {
	m              *Machine
	ctx            context.Context
	stdout, stderr io.Writer
	events         []Event
	effect         effect
}

// add appends an event and returns its index, to set its exit code later.
func (r *run) add(e Event) int {
	r.events = append(r.events, e)
	return len(r.events) - 1
}

// printf writes output of the command; the wsman streams do not fail.
func (r *run) printf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, args...)
}

// line handles a command line run by user.
func (r *run) line(line, user string, depth int) int {
	if script, ok := decodeEncoded(line); ok {
		return r.script(script, user, depth)
	}
	if e, ok := parseEcho(line); ok {
		return r.echo(line, e, user)
	}
	return r.text(KindCommand, line, winPath{}, user, depth, true)
}

// script handles the decoded script of an -EncodedCommand: a tool script
// or any other script.
func (r *run) script(script, user string, depth int) int {
	if op, vars, ok := winrm.ParseToolScript(script); ok && isToolOp(op) {
		return r.tool(op, vars, user, depth)
	}
	script = strings.TrimPrefix(script, progressPrefix)
	return r.text(KindCommand, script, winPath{}, user, depth, false)
}

// text records text (a command line, decoded script or script file's
// content) as kind and answers it: the fail glob, the scripts it runs,
// Sysprep, restart, poweroff and the restart check.
func (r *run) text(kind, text string, file winPath, user string, depth int, commandLine bool) int {
	e := newEvent(kind)
	e.User, e.Text = user, text
	if kind == KindScript {
		e.Path = file.String()
	}
	i := r.add(e)
	code := r.answer(text, user, depth, commandLine)
	r.events[i].Exit = intPtr(code)
	return code
}

// answer answers text and returns its exit code; see text.
func (r *run) answer(text, user string, depth int, commandLine bool) int {
	if code, failed := r.failGlob(text); failed {
		return code
	}
	if code := r.scripts(text, user, depth, commandLine); code != 0 {
		return code
	}
	r.power(text, user)
	if restartCheckRE.MatchString(text) {
		r.printf(r.stdout, "restarted.\r\n")
	}
	return 0
}

// power notes the power effect of text: Sysprep with shutdown (recorded
// at once), restart, or poweroff (recorded at once). The first effect of
// a command wins; the ones a script and the command running it share are
// recorded once.
func (r *run) power(text, user string) {
	if r.effect != noEffect {
		return
	}
	if agent, line, ok := sysprepShutdown(text); ok {
		e := newEvent(KindSysprep)
		e.User, e.Text = user, agent+": "+line
		r.add(e)
		r.effect = effectSysprep
		return
	}
	r.effect = powerEffect(text)
	if r.effect == effectPoweroff {
		e := newEvent(KindPoweroff)
		e.User = user
		r.add(e)
	}
}

// scripts answers the script files text runs that exist on the disk, in
// order, and returns the first non-zero exit code.
func (r *run) scripts(text, user string, depth int, commandLine bool) int {
	if depth >= maxDepth {
		return 0
	}
	for _, ref := range scriptRefs(text, commandLine) {
		p, err := resolvePath(ref, user)
		if err != nil || !r.m.disk.isFile(p) {
			continue
		}
		content, err := r.m.disk.readFile(p)
		if err != nil {
			r.printf(r.stderr, "cannot read %s: %v\r\n", p, err)
			return 1
		}
		if code := r.scriptFile(p, string(content), user, depth+1); code != 0 {
			return code
		}
	}
	return 0
}

// scriptFile answers a script file run by a command: a tool script (the
// elevated script uploaded as a file) or any other script.
func (r *run) scriptFile(p winPath, content, user string, depth int) int {
	if op, vars, ok := winrm.ParseToolScript(content); ok && isToolOp(op) {
		e := newEvent(KindScript)
		e.User, e.Path, e.Text = user, p.String(), content
		i := r.add(e)
		code := r.tool(op, vars, user, depth)
		r.events[i].Exit = intPtr(code)
		return code
	}
	return r.text(KindScript, strings.TrimPrefix(content, "\ufeff"), p, user, depth, false)
}

// failGlob fails text when it matches the fail glob.
func (r *run) failGlob(text string) (int, bool) {
	if r.m.fail == nil || !r.m.fail.Match(text) {
		return 0, false
	}
	r.printf(r.stderr, "simulated failure: the command matches the local cloud's fail glob %q\r\n", r.m.opts.FailGlob)
	return r.m.opts.FailCode, true
}

// echo answers cmd.exe's echo: it prints the text, or writes it and a
// CRLF to a file. The chunks of imgbuild's uploads are not recorded (the
// restored file is); other echo commands are recorded, with the file
// they write. Only the fail glob applies: what an echo prints is not run.
func (r *run) echo(line string, e echoCmd, user string) int {
	var p winPath
	var perr error
	if e.target != "" {
		p, perr = resolvePath(e.target, user)
		if perr == nil && isUploadTemp(p) {
			return r.writeEcho(p, e, false)
		}
	}
	ev := newEvent(KindCommand)
	ev.User, ev.Text = user, line
	i := r.add(ev)
	code, failed := r.failGlob(line)
	switch {
	case failed:
	case e.target == "":
		r.printf(r.stdout, "%s\r\n", e.text)
	case perr != nil:
		r.printf(r.stderr, "The system cannot find the path specified.\r\n")
		code = 1
	default:
		code = r.writeEcho(p, e, true)
	}
	r.events[i].Exit = intPtr(code)
	return code
}

// writeEcho appends or writes the echo's text and a CRLF to p.
func (r *run) writeEcho(p winPath, e echoCmd, record bool) int {
	if r.m.disk.isDir(p) {
		r.printf(r.stderr, "Access is denied.\r\n")
		return 1
	}
	data := []byte(e.text + "\r\n")
	var err error
	if e.appendTo {
		err = r.m.disk.appendFile(p, data)
	} else {
		err = r.writeFile(p, data)
	}
	if err != nil {
		r.printf(r.stderr, "cannot write %s: %v\r\n", p, err)
		return 1
	}
	if record {
		r.recordFile(p)
	}
	return 0
}

// writeFile replaces the file p with data.
func (r *run) writeFile(p winPath, data []byte) error {
	f, err := r.m.disk.create(p)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// recordFile adds a "file" event for p with its size and SHA-256.
func (r *run) recordFile(p winPath) {
	f, err := r.m.disk.open(p)
	if err != nil {
		return
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return
	}
	e := newEvent(KindFile)
	e.Path, e.Size, e.SHA256 = p.String(), int64Ptr(n), hex.EncodeToString(h.Sum(nil))
	r.add(e)
}

// isUploadTemp reports whether p is a staging file of imgbuild's uploads.
func isUploadTemp(p winPath) bool {
	if len(p.parts) != 3 || p.drive != "c" || !strings.EqualFold(p.parts[0], "Windows") || !strings.EqualFold(p.parts[1], "Temp") {
		return false
	}
	name := p.parts[2]
	return strings.HasPrefix(name, winrm.UploadTempPrefix) && path.Ext(name) == ".b64"
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

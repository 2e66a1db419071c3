package winguest

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/imgbuild/imgbuild/internal/communicator/winrm"
)

// isToolOp reports whether op is a tool script the guest answers.
func isToolOp(op string) bool {
	switch op {
	case winrm.OpRestore, winrm.OpMkdir, winrm.OpDownload, winrm.OpList, winrm.OpElevated, winrm.OpRegistryCheck:
		return true
	}
	return false
}

// tool does what the tool script op with vars does on a real host. Only
// restore (a "file" event) and elevated are recorded.
func (r *run) tool(op string, vars map[string]string, user string, depth int) int {
	switch op {
	case winrm.OpRestore:
		return r.restore(vars["src"], vars["dst"], user)
	case winrm.OpMkdir:
		return r.mkdir(vars["path"], user)
	case winrm.OpDownload:
		return r.download(vars["path"], user)
	case winrm.OpList:
		return r.list(vars["path"], user)
	case winrm.OpElevated:
		return r.elevated(vars, depth)
	}
	return 0 // registry-check: the guest has no registry, so no key exists
}

// failf prints a tool script's error message and returns its exit code.
func (r *run) failf(format string, args ...any) int {
	r.printf(r.stderr, format+"\r\n", args...)
	return 1
}

// restore decodes the base64 lines of src into dst and deletes src; an
// empty src makes dst empty.
func (r *run) restore(src, dst, user string) int {
	d, err := resolvePath(dst, user)
	if err != nil {
		return r.failf("cannot write %s: %v", dst, err)
	}
	var s winPath
	if src != "" {
		if s, err = resolvePath(src, user); err != nil {
			return r.failf("cannot write %s: %v", d, err)
		}
		defer r.m.disk.remove(s) // whatever happens, as the real script does
	}
	switch {
	case r.m.disk.isDir(d):
		return r.failf("cannot write %s: it is a directory", d)
	case src != "" && !r.m.disk.isFile(s):
		return r.failf("cannot write %s: the uploaded data %s is missing", d, s)
	}
	out, err := r.m.disk.create(d)
	if err != nil {
		return r.failf("cannot write %s: %v", d, err)
	}
	if src != "" {
		err = r.decodeLines(s, out)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r.failf("cannot write %s: %v", d, err)
	}
	r.recordFile(d)
	return 0
}

// decodeLines writes the decoded base64 lines of the file s to w.
func (r *run) decodeLines(s winPath, w io.Writer) error {
	in, err := r.m.disk.open(s)
	if err != nil {
		return err
	}
	defer in.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		data, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return fmt.Errorf("the uploaded data is not valid base64: %w", err)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return sc.Err()
}

// mkdir creates a directory and its parents.
func (r *run) mkdir(path, user string) int {
	p, err := resolvePath(path, user)
	switch {
	case err != nil:
		return r.failf("cannot create directory %s: %v", path, err)
	case r.m.disk.isFile(p):
		return r.failf("cannot create directory %s: a file has that name", p)
	}
	if err := r.m.disk.mkdirAll(p); err != nil {
		return r.failf("cannot create directory %s: %v", p, err)
	}
	return 0
}

// download prints a file's content as one base64 line.
func (r *run) download(path, user string) int {
	p, err := resolvePath(path, user)
	switch {
	case err != nil:
		return r.failf("cannot download %s: %v", path, err)
	case r.m.disk.isDir(p):
		return r.failf("cannot download %s: it is a directory", p)
	case !r.m.disk.isFile(p):
		return r.failf("cannot download %s: no such file", p)
	}
	f, err := r.m.disk.open(p)
	if err != nil {
		return r.failf("cannot download %s: %v", p, err)
	}
	defer f.Close()
	enc := base64.NewEncoder(base64.StdEncoding, r.stdout)
	if _, err := io.Copy(enc, ctxReader{r.ctx, f}); err != nil {
		return r.failf("cannot download %s: %v", p, err)
	}
	enc.Close()
	r.printf(r.stdout, "\r\n")
	return 0
}

// list prints every entry under a directory, recursively.
func (r *run) list(path, user string) int {
	p, err := resolvePath(path, user)
	switch {
	case err != nil:
		return r.failf("cannot list %s: %v", path, err)
	case !r.m.disk.isDir(p):
		return r.failf("cannot list %s: not a directory", p)
	}
	entries, err := r.m.disk.list(p)
	if err != nil {
		return r.failf("cannot list %s: %v", p, err)
	}
	w := bufio.NewWriter(r.stdout)
	for _, e := range entries {
		rel := strings.Join(e.parts, `\`)
		if e.dir {
			fmt.Fprintf(w, "d %s\r\n", rel)
		} else {
			fmt.Fprintf(w, "f %d %s\r\n", e.size, rel)
		}
	}
	w.Flush()
	return 0
}

// elevated runs $command as $user, as the scheduled task of the real
// script would: a non-empty $password must be the user's (an empty one is
// a service account's logon). It records "elevated" and, through the
// command handling, the command, never the password.
func (r *run) elevated(vars map[string]string, depth int) int {
	user, password, command := vars["user"], vars["password"], vars["command"]
	if password != "" {
		if want, ok := r.m.Password(user); !ok || want != password {
			e := newEvent(KindAuthFailed)
			e.User = user
			r.add(e)
			return r.failf("elevated: cannot register the task as %s: the user name or password is incorrect", user)
		}
	}
	if depth >= maxDepth {
		return r.failf("elevated: commands nested too deeply")
	}
	e := newEvent(KindElevated)
	e.User, e.Text = user, command
	i := r.add(e)
	code := r.line(command, user, depth+1)
	r.events[i].Exit = intPtr(code)
	return code
}

// ctxReader stops reading when ctx is done (the client terminated the
// command or the machine stopped).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

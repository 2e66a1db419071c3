package script

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/imgbuild/imgbuild/internal/interpolate"
)

// Var is one environment variable given to a script.
type Var struct {
	Name, Value string
}

// Vars returns the variables a script runs with, sorted by name: Packer's
// PACKER_BUILD_NAME and PACKER_BUILDER_TYPE, then extra (for example a
// post-processor's artifact variables), then environment_vars and env, each
// overriding what came before, as in Packer. Prepare has checked that every
// environment_vars entry has a "=".
func (e *Env) Vars(buildName, builderType string, extra ...Var) []Var {
	m := map[string]string{
		"PACKER_BUILD_NAME":   buildName,
		"PACKER_BUILDER_TYPE": builderType,
	}
	for _, v := range extra {
		m[v.Name] = v.Value
	}
	for _, kv := range e.EnvironmentVars {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	maps.Copy(m, e.Env)
	out := make([]Var, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Var{k, m[k]})
	}
	return out
}

// Environ returns vars as "KEY=value" entries, for os/exec.
func Environ(vars []Var) []string {
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = v.Name + "=" + v.Value
	}
	return out
}

// Flatten formats each variable with format (a Printf format taking the
// name and the value, such as "%s='%s' ") after escaping the value with
// escape, and concatenates the results.
func Flatten(vars []Var, format string, escape func(string) string) string {
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, format, v.Name, escape(v.Value))
	}
	return b.String()
}

// QuoteSingle escapes s for use inside single quotes in a POSIX shell:
// each ' becomes '"'"', so $, ` and \ stay literal. This is Packer's
// escaping of environment values.
func QuoteSingle(s string) string {
	return strings.ReplaceAll(s, "'", `'"'"'`)
}

// RenderCommand renders a command template such as execute_command with
// data (a struct or map holding the placeholders); see interpolate.Command.
func RenderCommand(attr, tpl string, data any) (string, error) {
	return interpolate.Command(attr, tpl, data)
}

// InlineScript returns the text of the script inline commands run as:
// the shebang line (when shebang is not empty), then one command a line.
func InlineScript(shebang string, lines []string) string {
	var b strings.Builder
	if shebang != "" {
		b.WriteString("#!" + shebang + "\n")
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// SyncWriter serializes writes to w, so a command's stdout and stderr can
// share one output stream. A nil w discards everything.
func SyncWriter(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return &syncWriter{w: w}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

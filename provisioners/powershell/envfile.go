package powershell

import (
	"regexp"
	"strings"

	"github.com/imgbuild/imgbuild/provisioners/script"
)

// psEscape escapes a value for a PowerShell double-quoted string: a
// backtick before each character that would end the string or expand
// (the typographic double quotes end it too).
var psEscape = strings.NewReplacer(
	"`", "``",
	`"`, "`\"",
	"$", "`$",
	"\u201c", "`\u201c",
	"\u201d", "`\u201d",
	"\u201e", "`\u201e",
)

// plainName matches variable names $env: takes as they are.
var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// EnvFileBody returns the environment script: one line a variable,
// `$env:NAME="value"`, the value escaped for a double-quoted string
// (`${env:NAME}` for names that are not plain words). A script with non-ASCII text starts with a UTF-8 byte order mark, which
// Windows PowerShell needs to read it as UTF-8.
func EnvFileBody(vars []script.Var) []byte {
	var b strings.Builder
	for _, v := range vars {
		name := "$env:" + v.Name
		if !plainName.MatchString(v.Name) {
			name = "${env:" + strings.NewReplacer("`", "``", "}", "`}").Replace(v.Name) + "}"
		}
		b.WriteString(name + `="` + psEscape.Replace(v.Value) + "\"\n")
	}
	return withBOM(b.String())
}

// withBOM returns s as bytes, after a UTF-8 byte order mark when s is not
// ASCII.
func withBOM(s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return []byte("\uFEFF" + s)
		}
	}
	return []byte(s)
}

// quoteSingle returns s as a PowerShell single-quoted string.
func quoteSingle(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// removeCommand returns the command that deletes the files at paths,
// ignoring the ones already gone.
func removeCommand(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = quoteSingle(p)
	}
	return `powershell -NoProfile -ExecutionPolicy Bypass -Command "Remove-Item -Force -ErrorAction SilentlyContinue -LiteralPath ` +
		strings.Join(q, ",") + `"`
}
